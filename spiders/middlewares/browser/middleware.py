"""The downloader middleware: answers :class:`BrowserRequest` with a Chromium render.

Selenium calls block, so they run in a dedicated one-thread pool: one WebDriver
is not thread-safe, and a dedicated pool keeps browser work off the reactor's
shared thread pool, which Scrapy uses for DNS.  The reactor keeps downloading
static pages meanwhile; browser pages are rendered one at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import HtmlResponse
from scrapy.utils.defer import maybe_deferred_to_future

from .driver import (
    DEFAULT_BROWSER_ARGUMENTS,
    _DEFAULT_BINARIES,
    _DEFAULT_DRIVERS,
    _Browser,
    _find_executable,
    _first_line,
    _start_browser,
)
from .request import BrowserError, BrowserRequest, BrowserTimeout, BrowserUnavailable, _BrowserClosed
from .scripts import _FINGERPRINT_JS, _STATUS_JS

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

START_ATTEMPTS = 3
logger = logging.getLogger(__package__)


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
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserMiddleware:
        return cls(crawler)

    # -- reactor side -----------------------------------------------------

    async def process_request(self, request: scrapy.Request) -> HtmlResponse | None:
        if not isinstance(request, BrowserRequest):
            return None
        stats = self.crawler.stats
        started = time.monotonic()
        try:
            if self._closed:
                raise _BrowserClosed(f"browser already closed, not rendering {request.url}")
            from twisted.internet import reactor
            from twisted.internet.threads import deferToThreadPool

            settings = self.crawler.settings
            spider = self.crawler.spider
            # This middleware answers before the downloader's slots, so Scrapy
            # would not apply DOWNLOAD_DELAY to rendered pages; _render does.
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

    def _ensure_browser(self, user_agent: str | None) -> tuple[_Browser, bool]:
        if self._browser is not None and not self._browser.dead:
            return self._browser, False
        if self._start_error is not None:  # a failed start is not retried
            raise BrowserUnavailable(self._start_error)
        if self._browser is not None:  # it died: restart, a few times at most
            self._browser = None
            self._restarts += 1
            if self._restarts > self.max_restarts:
                self._start_error = f"browser crashed {self._restarts} times, giving up"
                raise BrowserUnavailable(self._start_error)
        # A start can fail on a busy machine (Chromium slow to open its DevTools port):
        # try a few times before giving up for the rest of the crawl. A missing binary is final.
        for attempt in range(START_ATTEMPTS):
            try:
                self._browser = _start_browser(
                    self.binary, self.driver_path, self.arguments, user_agent,
                    self.page_load_timeout,
                    command_timeout=self.page_load_timeout + self.default_wait_time + 30,
                )
                return self._browser, True
            except BrowserUnavailable as exc:
                if "not found" in str(exc) or attempt == START_ATTEMPTS - 1:
                    self._start_error = str(exc)
                    raise
                logger.warning("Browser start failed (attempt %d), retrying: %s", attempt + 1, exc)
                time.sleep(2.0 * (attempt + 1))
        raise AssertionError("unreachable")

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
                    browser.stop_loading()
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
                browser.quit_if_unresponsive()
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
