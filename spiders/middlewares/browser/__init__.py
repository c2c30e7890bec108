"""Render JavaScript-built pages with a real Chromium, driven by Selenium 4.

A drop-in for scrapy-selenium 0.0.7 (broken since Selenium 4.10), with the same
request interface::

    from spiders.middlewares.browser import BrowserRequest   # or SeleniumRequest

    yield BrowserRequest(url, callback=self.parse_people,
                         errback=self.on_error,
                         wait_time=5,                        # seconds, optional
                         wait_until=EC.presence_of_element_located(
                             (By.CSS_SELECTOR, ".person")),  # optional
                         script="window.scrollTo(0, document.body.scrollHeight)",
                         screenshot=True)

Enabled in the project settings::

    DOWNLOADER_MIDDLEWARES = {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "spiders.middlewares.robots.RobotsTxtMiddleware": 100,
        "spiders.middlewares.browser.BrowserMiddleware": 800,
    }

Why 800: ``process_request`` hooks run in increasing priority order and this
middleware *answers* the request (nothing after it runs for that request).  At
800 it runs after robots.txt (100), so rendered pages obey it, and after the
user-agent (500), retry (550), cookies (700) and proxy (750) middlewares.
The ``process_request`` of ``DownloaderStats`` (850) and
``HttpCacheMiddleware`` (900) never sees a rendered request
(``downloader/request_count`` does not count it; see the ``browser/*`` stats),
but every ``process_response`` / ``process_exception`` hook runs on the result.  Requests that are not :class:`BrowserRequest`
pass through untouched.

The response
------------
An :class:`~scrapy.http.HtmlResponse` of ``driver.page_source`` (UTF-8) with
``url`` = the browser's final URL, ``status`` = the main document's HTTP status
as the browser saw it (200 when unknown; a non-2xx status goes through
``HttpErrorMiddleware`` / ``RetryMiddleware`` like a plain download) and
``"browser"`` in ``flags``.  Meta keys:

* ``rendered`` -- ``True``;
* ``screenshot`` -- PNG bytes, with ``screenshot=True``;
* ``script_result`` -- what ``script`` returned, if a script was given;
* ``browser_settled`` -- whether the page went quiet (no fetch/XHR in flight,
  DOM unchanged for ``BROWSER_SETTLE_TIME``) within ``wait_time``;
* ``download_latency`` -- rendering seconds.

After the load, the middleware waits up to ``wait_time`` for ``wait_until``
(not met: :class:`BrowserTimeout`) or, without it, for the page to settle; a
``script`` runs after that, followed by another settle wait.

The browser always does a plain GET with its own cookies (the request's method,
body, headers and cookies are not sent).  Sub-resources (scripts, JSON) are
fetched by Chromium, not checked against robots.txt nor counted by Scrapy;
images are never loaded.  A BrowserRequest has the same fingerprint as a plain
Request for the same URL.

Failures reach the errback as :class:`BrowserError` (an ``IgnoreRequest``: not
retried) or its subclasses :class:`BrowserUnavailable` (browser or driver
missing or failed to start; later requests fail fast) and
:class:`BrowserTimeout` (page load or ``wait_until``).

Settings (all optional)
-----------------------
``BROWSER_BINARY``              Chromium; default ``/usr/bin/chromium``, else
                                ``chromium`` / ``chromium-browser`` /
                                ``google-chrome`` on ``PATH``.
``BROWSER_DRIVER``              ChromeDriver; default ``/usr/bin/chromedriver``
                                else ``chromedriver`` on ``PATH``.
``BROWSER_ARGUMENTS``           Chromium switches, default
                                :data:`DEFAULT_BROWSER_ARGUMENTS`; a temporary
                                ``--user-data-dir`` (deleted at close) and
                                ``--user-agent=<USER_AGENT>`` are added unless
                                present.
``BROWSER_PAGE_LOAD_TIMEOUT``   seconds, default 30.
``BROWSER_WAIT_TIME``           default ``wait_time``, default 2 s.
``BROWSER_SETTLE_TIME``         quiet period that counts as settled, 0.3 s.
``USER_AGENT`` / ``DOWNLOAD_DELAY`` (or the spider's ``user_agent`` /
``download_delay``) apply to the browser too (the delay between navigations to
the same host).

One browser per crawl, started on the first BrowserRequest, rendering one page
at a time, quit on ``spider_closed``.  Stats: ``browser/pages``,
``browser/seconds``, ``browser/wall_seconds``, ``browser/starts``,
``browser/start_seconds``,
``browser/errors/<unavailable|timeout|webdriver|closed>``.
"""

from .driver import DEFAULT_BROWSER_ARGUMENTS
from .middleware import BrowserMiddleware
from .request import BrowserError, BrowserRequest, BrowserTimeout, BrowserUnavailable, SeleniumRequest

__all__ = [
    "BrowserError",
    "BrowserMiddleware",
    "BrowserRequest",
    "BrowserTimeout",
    "BrowserUnavailable",
    "DEFAULT_BROWSER_ARGUMENTS",
    "SeleniumRequest",
]
