"""Render JavaScript-built pages with a real Chromium, driven by Selenium 4.

This replaces scrapy-selenium 0.0.7, which no longer works with
Selenium >= 4.10 (``executable_path`` was removed).  The request interface is
the same, so spiders written for scrapy-selenium keep working::

    from spiders.middlewares.browser import BrowserRequest   # or SeleniumRequest

    yield BrowserRequest(url, callback=self.parse_people,
                         errback=self.on_error,
                         wait_time=5,                        # seconds, optional
                         wait_until=EC.presence_of_element_located(
                             (By.CSS_SELECTOR, ".person")),  # optional
                         script="window.scrollTo(0, document.body.scrollHeight)",
                         screenshot=True)

Enable it in the project settings::

    DOWNLOADER_MIDDLEWARES = {
        "spiders.middlewares.browser.BrowserMiddleware": 800,
    }

Why 800: downloader middlewares' ``process_request`` runs in increasing
priority order and this middleware *answers* the request itself (it returns a
response, so nothing after it runs for that request).  At 800 it runs after
``RobotsTxtMiddleware`` (100), so robots.txt is still honoured for rendered
pages, and after the user-agent (500), retry (550), cookies (700) and proxy
(750) middlewares.  Everything with priority > 800 (``DownloaderStats`` 850,
``HttpCacheMiddleware`` 900) does not see a rendered request in
``process_request`` (so ``downloader/request_count`` does not count them; see
the ``browser/*`` stats instead) but all ``process_response`` and
``process_exception`` hooks still run on the result.

robots.txt caveat (Scrapy 2.19 + asyncio reactor): ``RobotsTxtMiddleware``
wrongly allows the requests that were queued behind a site's robots.txt
download, except the first one (each waiter converts the *same* pending
Deferred with ``Deferred.asFuture()``, which consumes the result, so later
waiters see ``None`` = "no robots.txt").  To keep robots.txt honoured for
rendered pages, this middleware asks ``RobotsTxtMiddleware`` again just before
rendering (by then the parser is cached), which raises the usual
``IgnoreRequest("Forbidden by robots.txt")``.  Plain requests are not covered
by this re-check.

Requests that are not :class:`BrowserRequest` pass through untouched.

What a rendered request gets
----------------------------
* an :class:`~scrapy.http.HtmlResponse` built from ``driver.page_source``
  (UTF-8), ``url`` = the browser's final URL, ``status`` = the HTTP status of
  the main document as the browser saw it (Navigation Timing
  ``responseStatus``; 200 when unknown), ``flags`` contains ``"browser"``;
* ``response.meta['rendered'] = True``;
* ``response.meta['screenshot']`` = PNG bytes when ``screenshot=True``;
* ``response.meta['script_result']`` = what ``script`` returned (if a script
  was given and it ``return``-ed something);
* ``response.meta['browser_settled']`` = whether the page went quiet (no
  fetch/XHR in flight, DOM unchanged) before ``wait_time`` ran out.

Waiting
-------
``driver.get`` returns once ``document.readyState == 'complete'`` (or fails
after ``BROWSER_PAGE_LOAD_TIMEOUT``).  Then, with ``wait_until`` the middleware
waits up to ``wait_time`` for that Selenium expected condition (not met ->
failure, like scrapy-selenium).  Without it, it waits until the page is
"network-idle-ish": no fetch()/XMLHttpRequest in flight (counted by a small
script injected into every document) and the DOM unchanged for
``BROWSER_SETTLE_TIME`` (0.3 s), at most ``wait_time`` -- this is what makes
content built by scripts (inline JSON, ``fetch('people.json')``) appear.  A
``script`` runs after that wait, followed by another settle wait, so scripts
that click "show all" work.

Settings (all optional)
-----------------------
``BROWSER_BINARY``              Chromium; default ``/usr/bin/chromium``, else
                                ``chromium`` / ``chromium-browser`` /
                                ``google-chrome`` on ``PATH``.
``BROWSER_DRIVER``              ChromeDriver; default ``/usr/bin/chromedriver``
                                else ``chromedriver`` on ``PATH``.
``BROWSER_ARGUMENTS``           list of Chromium switches, default
                                :data:`DEFAULT_BROWSER_ARGUMENTS`.  A fresh
                                temporary ``--user-data-dir`` (deleted at close)
                                and ``--user-agent=<USER_AGENT>`` are added
                                unless the list already has them.
``BROWSER_PAGE_LOAD_TIMEOUT``   seconds, default 30.
``BROWSER_WAIT_TIME``           default ``wait_time``, default 2 s.
``BROWSER_SETTLE_TIME``         quiet period that counts as settled, 0.3 s.
``USER_AGENT`` (or the spider's ``user_agent``) is given to the browser, so it
identifies itself like the rest of the crawl (and like robots.txt was
evaluated for).
``DOWNLOAD_DELAY`` (or the spider's ``download_delay``) is applied between
browser navigations to the same host -- this middleware answers before the
downloader's slots, so Scrapy itself would not delay rendered pages.

Runtime behaviour
-----------------
* The browser starts lazily on the first :class:`BrowserRequest` (a crawl
  without JS pages never starts one); one browser per crawl, reused; it is
  quit on ``spider_closed`` and the temporary profile removed.  Chromium and
  its helpers are killed by process group / profile path if quitting fails.
* Selenium calls block, so they run in a dedicated one-thread pool (one
  WebDriver is not thread-safe; a dedicated pool also keeps browser work from
  occupying the reactor's shared thread pool, which Scrapy uses for DNS).  The
  reactor keeps downloading static pages meanwhile.  Browser pages are
  rendered one at a time.
* Every problem becomes a normal download failure: a :class:`BrowserError`
  (an ``IgnoreRequest`` subclass, so it is not retried and not logged as an
  error by Scrapy; this middleware logs a warning) reaches the request's
  errback.  Subclasses: :class:`BrowserUnavailable` (browser/driver missing or
  failed to start -- remembered, later requests fail fast),
  :class:`BrowserTimeout` (page load or ``wait_until`` timeout).  Stats:
  ``browser/pages``, ``browser/seconds`` (rendering time: navigation, waits,
  script, screenshot, page source), ``browser/wall_seconds`` (including the
  wait for the browser and its start), ``browser/starts``,
  ``browser/start_seconds``,
  ``browser/errors/<unavailable|timeout|webdriver|closed>``.
* Sub-resources a page loads (scripts, JSON, images) are fetched by Chromium
  itself: they are not checked against robots.txt and not counted by Scrapy.
* The browser always does a plain GET with its own cookies: the request's
  method, body, headers and cookies are not sent (as in scrapy-selenium).  A
  non-2xx main document keeps its status, so ``HttpErrorMiddleware`` and
  ``RetryMiddleware`` treat it like a plain download.
* A BrowserRequest has the same fingerprint as a plain Request for the same
  URL, so the dupefilter treats them as the same page.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.defer import maybe_deferred_to_future

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = [
    "BrowserError",
    "BrowserMiddleware",
    "BrowserRequest",
    "BrowserTimeout",
    "BrowserUnavailable",
    "DEFAULT_BROWSER_ARGUMENTS",
    "SeleniumRequest",
]

#: Chromium switches used unless ``BROWSER_ARGUMENTS`` is set.  The
#: background-networking/component/sync switches stop Chromium from making
#: connections of its own (refused in sandboxes, noise elsewhere);
#: ``--no-sandbox`` is needed when running as root.
DEFAULT_BROWSER_ARGUMENTS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # The crawler fetches photos itself (conditionally, counted); the browser loading
    # every image again would defeat incremental recrawls and waste the site's bandwidth.
    "--blink-settings=imagesEnabled=false",
)

_BLOCKED_URL_PATTERNS = tuple(
    f"*.{ext}{tail}" for ext in ("png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico", "svg", "tif", "tiff")
    for tail in ("", "?*")
)

_DEFAULT_BINARIES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
_DEFAULT_DRIVERS = ("/usr/bin/chromedriver", "chromedriver")

#: Injected into every document before its own scripts: counts fetch()/XHR in
#: flight so "settled" can mean network-idle-ish, not only DOM-quiet.
_NETWORK_TRACKER_JS = r"""
(() => {
  if (window.__afNet) return;
  const net = window.__afNet = {pending: 0};
  const done = () => { net.pending = Math.max(0, net.pending - 1); };
  const origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (...args) {
      net.pending++;
      let p;
      try { p = origFetch.apply(this, args); } catch (e) { done(); throw e; }
      p.then(done, done);
      return p;
    };
  }
  const X = window.XMLHttpRequest && window.XMLHttpRequest.prototype;
  if (X && X.send) {
    const send = X.send;
    X.send = function (...args) {
      net.pending++;
      this.addEventListener('loadend', done, {once: true});
      try { return send.apply(this, args); } catch (e) { done(); throw e; }
    };
  }
})();
"""

_FINGERPRINT_JS = r"""
const n = window.__afNet || {pending: 0};
const b = document.body;
return [document.readyState, n.pending,
        document.getElementsByTagName('*').length,
        b ? b.innerHTML.length : 0,
        performance.getEntriesByType('resource').length];
"""

_STATUS_JS = r"""
try {
  const e = performance.getEntriesByType('navigation')[0];
  return e && e.responseStatus ? e.responseStatus : 0;
} catch (err) { return 0; }
"""


class BrowserRequest(scrapy.Request):
    """A request rendered by :class:`BrowserMiddleware` (scrapy-selenium's interface).

    :param wait_time: seconds to wait for ``wait_until`` (or, without it, for
        the page to settle); default ``BROWSER_WAIT_TIME``.
    :param wait_until: a Selenium expected condition (callable taking the
        driver), e.g. ``EC.presence_of_element_located((By.ID, "people"))``.
    :param screenshot: put a PNG of the viewport in ``response.meta['screenshot']``.
    :param script: JavaScript executed after the page loaded and settled.
    """

    attributes: tuple[str, ...] = scrapy.Request.attributes + (
        "wait_time",
        "wait_until",
        "screenshot",
        "script",
    )

    def __init__(
        self,
        *args: Any,
        wait_time: float | None = None,
        wait_until: Any = None,
        screenshot: bool = False,
        script: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.wait_time = wait_time
        self.wait_until = wait_until
        self.screenshot = bool(screenshot)
        self.script = script
        super().__init__(*args, **kwargs)


#: scrapy-selenium compatible name.
SeleniumRequest = BrowserRequest


class BrowserError(IgnoreRequest):
    """A BrowserRequest could not be rendered; ``str(exc)`` says why."""

    reason = "webdriver"


class BrowserUnavailable(BrowserError):
    """Chromium / ChromeDriver missing or failed to start (NotConfigured-like)."""

    reason = "unavailable"


class BrowserTimeout(BrowserError):
    """Page load timed out, or ``wait_until`` was not met in ``wait_time``."""

    reason = "timeout"


class _BrowserClosed(BrowserError):
    reason = "closed"


def _first_line(exc: BaseException) -> str:
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return str(msg).strip().splitlines()[0] if str(msg).strip() else type(exc).__name__


def _find_executable(configured: str | None, candidates: tuple[str, ...]) -> str | None:
    if configured:
        return configured  # an explicit setting is used as is (error names it)
    for name in candidates:
        if os.path.isabs(name):
            if os.path.isfile(name) and os.access(name, os.X_OK):
                return name
        else:
            found = shutil.which(name)
            if found:
                return found
    return None


def _pids_with_arg(needle: str) -> list[int]:
    """PIDs whose command line contains ``needle`` (Linux /proc; else [])."""
    pids: list[int] = []
    if not needle or not os.path.isdir("/proc"):
        return pids
    raw = needle.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if raw in fh.read():
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


class _Browser:
    """One Chromium + ChromeDriver; used only from the middleware's worker thread
    (except :meth:`kill`, which is safe from anywhere)."""

    def __init__(self, driver: Any, profile_dir: str, own_profile: bool) -> None:
        self.driver = driver
        self.profile_dir = profile_dir
        self.own_profile = own_profile
        proc = getattr(driver.service, "process", None)
        self.driver_pid: int | None = proc.pid if proc is not None else None
        self.dead = False

    def quit(self) -> None:
        try:
            self.driver.quit()
        except Exception as exc:  # quitting a dead browser
            logger.debug("driver.quit() failed: %s", _first_line(exc))
        self.kill(grace=3.0)

    def kill(self, grace: float = 0.0) -> None:
        """Make sure no process we started survives, then remove the profile."""
        self.dead = True
        if self.driver_pid:
            # chromedriver was started in its own session/process group and
            # Chromium's processes inherit it.
            try:
                os.killpg(self.driver_pid, signal.SIGKILL if not grace else signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        # crashpad handlers leave the process group but carry the profile path.
        deadline = time.monotonic() + grace
        while grace and _pids_with_arg(self.profile_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in _pids_with_arg(self.profile_dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.driver_pid:
            try:
                os.killpg(self.driver_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc = getattr(self.driver.service, "process", None)
        if proc is not None:
            try:
                proc.wait(timeout=2)
            except Exception:
                pass
        if self.own_profile:
            for _ in range(10):
                shutil.rmtree(self.profile_dir, ignore_errors=True)
                if not os.path.exists(self.profile_dir):
                    break
                time.sleep(0.05)


_live_browsers: weakref.WeakSet[_Browser] = weakref.WeakSet()


@atexit.register
def _kill_leftover_browsers() -> None:  # pragma: no cover - safety net
    for browser in list(_live_browsers):
        if not browser.dead:
            browser.kill()


class BrowserMiddleware:
    """Downloader middleware answering :class:`BrowserRequest` with a Chromium render."""

    max_restarts = 3
    poll_interval = 0.05

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.binary = _find_executable(settings.get("BROWSER_BINARY"), _DEFAULT_BINARIES)
        self.driver_path = _find_executable(settings.get("BROWSER_DRIVER"), _DEFAULT_DRIVERS)
        arguments = settings.getlist("BROWSER_ARGUMENTS")
        self.arguments: list[str] = (
            list(arguments) if settings.get("BROWSER_ARGUMENTS") is not None
            else list(DEFAULT_BROWSER_ARGUMENTS)
        )
        self.page_load_timeout = settings.getfloat("BROWSER_PAGE_LOAD_TIMEOUT", 30.0)
        self.default_wait_time = settings.getfloat("BROWSER_WAIT_TIME", 2.0)
        self.settle_time = settings.getfloat("BROWSER_SETTLE_TIME", 0.3)
        self._lock = threading.Lock()
        self._browser: _Browser | None = None
        self._start_error: str | None = None
        self._restarts = 0
        self._closed = False
        self._pool: Any = None
        self._last_visit: dict[str, float] = {}
        self._robots_mw: Any = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserMiddleware:
        return cls(crawler)

    # -- reactor side -----------------------------------------------------

    async def process_request(self, request: scrapy.Request) -> HtmlResponse | None:
        if not isinstance(request, BrowserRequest):
            return None
        await self._check_robots(request)  # raises IgnoreRequest("Forbidden by robots.txt")
        stats = self.crawler.stats
        started = time.monotonic()
        try:
            if self._closed:
                raise _BrowserClosed(f"browser already closed, not rendering {request.url}")
            from twisted.internet import reactor
            from twisted.internet.threads import deferToThreadPool

            settings = self.crawler.settings
            spider = self.crawler.spider
            delay = getattr(spider, "download_delay", None)
            if delay is None:
                delay = settings.getfloat("DOWNLOAD_DELAY")
            user_agent = getattr(spider, "user_agent", None) or settings.get("USER_AGENT")
            result = await maybe_deferred_to_future(
                deferToThreadPool(
                    reactor, self._get_pool(), self._render, request, float(delay or 0), user_agent
                )
            )
        except BrowserError as exc:
            stats.inc_value(f"browser/errors/{exc.reason}")
            logger.warning("Browser failed on %s: %s", request.url, exc,
                           extra={"spider": self.crawler.spider})
            raise
        except Exception as exc:  # never let a surprise escape as a crash
            stats.inc_value("browser/errors/webdriver")
            logger.warning("Browser failed on %s: %r", request.url, exc,
                           extra={"spider": self.crawler.spider})
            raise BrowserError(f"browser error on {request.url}: {_first_line(exc)}") from exc
        stats.inc_value("browser/pages")
        stats.inc_value("browser/seconds", round(result["seconds"], 3))
        stats.inc_value("browser/wall_seconds", round(time.monotonic() - started, 3))
        request.meta["rendered"] = True
        request.meta["browser_settled"] = result["settled"]
        request.meta["download_latency"] = result["seconds"]
        if request.screenshot:
            request.meta["screenshot"] = result["screenshot"]
        if request.script:
            request.meta["script_result"] = result["script_result"]
        return HtmlResponse(
            url=result["url"] or request.url,
            status=result["status"],
            headers={"Content-Type": "text/html; charset=utf-8"},
            body=result["body"].encode("utf-8"),
            encoding="utf-8",
            request=request,
            flags=["browser"],
        )

    async def _check_robots(self, request: scrapy.Request) -> None:
        """Re-apply robots.txt right before rendering.

        ``RobotsTxtMiddleware`` (100) has already run, but in Scrapy 2.19 with
        the asyncio reactor it lets through every request that waited for the
        robots.txt download except the first one (``robot_parser()`` hands the
        same pending Deferred to each waiter and ``Deferred.asFuture()``
        consumes its result, so the others get ``None`` = "no robots.txt").
        By now the parser is stored, so asking again gives the right answer.
        """
        settings = self.crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY") or request.meta.get("dont_obey_robotstxt"):
            return
        if self._robots_mw is None:
            from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

            engine = getattr(self.crawler, "engine", None)
            mws = getattr(getattr(getattr(engine, "downloader", None), "middleware", None),
                          "middlewares", ())
            self._robots_mw = next(
                (mw for mw in mws if isinstance(mw, RobotsTxtMiddleware)), False
            )
        if not self._robots_mw:
            return
        try:
            parser = await self._robots_mw.robot_parser(request)
        except Exception as exc:  # robots.txt errors mean "allowed", as in Scrapy
            logger.debug("robots.txt re-check failed for %s: %r", request.url, exc)
            return
        self._robots_mw.process_request_2(parser, request)  # raises IgnoreRequest

    def _get_pool(self) -> Any:
        if self._pool is None:
            from twisted.internet import reactor
            from twisted.python.threadpool import ThreadPool

            pool = ThreadPool(minthreads=1, maxthreads=1, name="browser")
            pool.start()
            self._pool = pool
            reactor.addSystemEventTrigger("during", "shutdown", self._stop_pool, pool)
        return self._pool

    @staticmethod
    def _stop_pool(pool: Any) -> None:
        if not pool.joined:
            pool.stop()

    async def spider_closed(self, spider: scrapy.Spider, reason: str) -> None:
        self._closed = True
        if self._pool is None:
            return
        from twisted.internet import reactor
        from twisted.internet.defer import TimeoutError as DeferTimeout
        from twisted.internet.threads import deferToThreadPool

        d = deferToThreadPool(reactor, self._pool, self._shutdown)
        d.addTimeout(self.page_load_timeout + self.default_wait_time + 15, reactor)
        try:
            await maybe_deferred_to_future(d)
        except DeferTimeout:
            logger.warning("Browser did not quit in time; killing it")
            browser = self._browser
            if browser is not None:
                browser.kill()
        except Exception:
            logger.exception("Error while closing the browser")
        pool, self._pool = self._pool, None
        self._stop_pool(pool)

    # -- worker thread ----------------------------------------------------

    def _shutdown(self) -> None:
        with self._lock:
            browser, self._browser = self._browser, None
            if browser is not None:
                browser.quit()
                logger.info("Browser closed")

    def _start(self, user_agent: str | None) -> _Browser:
        if not self.binary or not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise BrowserUnavailable(
                f"Chromium binary not found: {self.binary or '/usr/bin/chromium'!r} "
                f"(install chromium or set BROWSER_BINARY)"
            )
        if not self.driver_path or not (
            os.path.isfile(self.driver_path) and os.access(self.driver_path, os.X_OK)
        ):
            raise BrowserUnavailable(
                f"ChromeDriver binary not found: {self.driver_path or '/usr/bin/chromedriver'!r} "
                f"(install chromium-driver or set BROWSER_DRIVER)"
            )
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError as exc:  # pragma: no cover
            raise BrowserUnavailable(f"selenium is not installed: {exc}") from exc

        args = list(self.arguments)
        profile = next((a.split("=", 1)[1] for a in args if a.startswith("--user-data-dir=")), None)
        own_profile = profile is None
        if own_profile:
            profile = tempfile.mkdtemp(prefix="academic-faces-chromium-")
            args.append(f"--user-data-dir={profile}")
        if user_agent and not any(a.startswith("--user-agent=") for a in args):
            args.append(f"--user-agent={user_agent}")
        options = webdriver.ChromeOptions()
        options.binary_location = self.binary
        options.page_load_strategy = "normal"
        for arg in args:
            options.add_argument(arg)
        service = Service(
            executable_path=self.driver_path,
            log_output=subprocess.DEVNULL,
            popen_kw={"start_new_session": True},
        )
        t0 = time.monotonic()
        try:
            driver = webdriver.Chrome(service=service, options=options)
        except Exception as exc:
            proc = getattr(service, "process", None)
            if proc is not None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if own_profile:
                for pid in _pids_with_arg(profile):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                shutil.rmtree(profile, ignore_errors=True)
            raise BrowserUnavailable(
                f"could not start Chromium {self.binary!r} via ChromeDriver "
                f"{self.driver_path!r}: {_first_line(exc)}"
            ) from exc
        browser = _Browser(driver, profile, own_profile)
        _live_browsers.add(browser)
        try:
            driver.set_page_load_timeout(self.page_load_timeout)
            driver.set_script_timeout(self.page_load_timeout)
            # bound every WebDriver HTTP call so a wedged driver cannot hang us
            try:
                driver.command_executor._client_config.timeout = (
                    self.page_load_timeout + self.default_wait_time + 30
                )
            except Exception:  # pragma: no cover - private API moved
                pass
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": _NETWORK_TRACKER_JS}
            )
            # Belt and braces with imagesEnabled=false (which still lets some through):
            # the browser never downloads images; the crawler fetches photos itself.
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": list(_BLOCKED_URL_PATTERNS)})
        except Exception as exc:
            browser.quit()
            raise BrowserUnavailable(f"could not configure Chromium: {_first_line(exc)}") from exc
        logger.info(
            "Browser started in %.1fs: %s %s (profile %s)",
            time.monotonic() - t0, self.binary,
            (driver.capabilities or {}).get("browserVersion", "?"), profile,
        )
        return browser

    def _ensure_browser(self, user_agent: str | None) -> tuple[_Browser, bool]:
        if self._browser is not None and not self._browser.dead:
            return self._browser, False
        if self._start_error is not None:
            raise BrowserUnavailable(self._start_error)
        if self._browser is not None:  # it died: restart, a few times at most
            self._browser = None
            self._restarts += 1
            if self._restarts > self.max_restarts:
                self._start_error = f"browser crashed {self._restarts} times, giving up"
                raise BrowserUnavailable(self._start_error)
        try:
            self._browser = self._start(user_agent)
        except BrowserUnavailable as exc:
            self._start_error = str(exc)
            raise
        return self._browser, True

    def _render(self, request: BrowserRequest, delay: float, user_agent: str | None) -> dict[str, Any]:
        from selenium.common.exceptions import TimeoutException, WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        with self._lock:
            if self._closed:
                raise _BrowserClosed(f"browser already closed, not rendering {request.url}")
            t_start = time.monotonic()
            browser, started = self._ensure_browser(user_agent)
            if started:
                self._stat_from_thread("browser/starts", 1)
                self._stat_from_thread("browser/start_seconds", round(time.monotonic() - t_start, 3))
            driver = browser.driver
            host = urlsplit(request.url).netloc
            if delay > 0 and host in self._last_visit:
                remaining = self._last_visit[host] + delay - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)
            wait_time = self.default_wait_time if request.wait_time is None else float(request.wait_time)
            t0 = time.monotonic()
            try:
                try:
                    driver.get(request.url)
                except TimeoutException as exc:
                    self._stop_loading(browser)
                    raise BrowserTimeout(
                        f"page load timed out after {self.page_load_timeout:g}s: {request.url}"
                    ) from exc
                settled = True
                if request.wait_until is not None:
                    try:
                        WebDriverWait(driver, max(wait_time, 0.0), poll_frequency=0.1).until(
                            request.wait_until
                        )
                    except TimeoutException as exc:
                        raise BrowserTimeout(
                            f"wait_until condition not met within {wait_time:g}s: {request.url}"
                        ) from exc
                else:
                    settled = self._settle(driver, wait_time)
                script_result = None
                if request.script:
                    script_result = driver.execute_script(request.script)
                    if request.wait_until is None:
                        settled = self._settle(driver, wait_time) and settled
                screenshot = driver.get_screenshot_as_png() if request.screenshot else None
                status = int(driver.execute_script(_STATUS_JS) or 0) or 200
                body = driver.page_source
                url = driver.current_url
            except BrowserError:
                raise
            except WebDriverException as exc:
                self._check_alive(browser)
                raise BrowserError(f"WebDriver error on {request.url}: {_first_line(exc)}") from exc
            finally:
                self._last_visit[host] = time.monotonic()
            return {
                "url": url,
                "body": body,
                "status": status,
                "screenshot": screenshot,
                "script_result": script_result,
                "settled": settled,
                "seconds": time.monotonic() - t0,
            }

    def _stat_from_thread(self, key: str, value: float) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.crawler.stats.inc_value, key, value)

    def _settle(self, driver: Any, wait_time: float) -> bool:
        """Poll until no fetch/XHR is pending and the DOM stayed unchanged for
        ``settle_time``; give up after ``wait_time``.  Returns whether it settled."""
        deadline = time.monotonic() + max(wait_time, 0.0)
        last = None
        stable_since = time.monotonic()
        while True:
            fingerprint = driver.execute_script(_FINGERPRINT_JS)
            now = time.monotonic()
            if fingerprint != last:
                last, stable_since = fingerprint, now
            quiet = (
                fingerprint[0] == "complete"
                and not fingerprint[1]
                and now - stable_since >= self.settle_time
            )
            if quiet:
                return True
            if now >= deadline:
                return False
            time.sleep(min(self.poll_interval, max(deadline - now, 0.0)))

    def _stop_loading(self, browser: _Browser) -> None:
        try:
            browser.driver.execute_script("window.stop();")
        except Exception:
            self._check_alive(browser)

    def _check_alive(self, browser: _Browser) -> None:
        """After an error: if the browser no longer answers, drop it so the
        next request starts a fresh one."""
        try:
            browser.driver.window_handles  # noqa: B018 - a cheap round trip
        except Exception as exc:
            logger.warning("Browser is not responding (%s); it will be restarted", _first_line(exc))
            browser.quit()
