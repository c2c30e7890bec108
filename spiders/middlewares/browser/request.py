"""The request rendered by the browser, and the errors its errback can get."""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest


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


# IgnoreRequest subclasses: Scrapy neither retries them nor logs them as errors
# (the middleware logs a warning); they reach the request's errback.
class BrowserError(IgnoreRequest):
    """A BrowserRequest could not be rendered; ``str(exc)`` says why."""

    #: suffix of the ``browser/errors/<reason>`` stat.
    reason = "webdriver"


class BrowserUnavailable(BrowserError):
    """Chromium / ChromeDriver missing or failed to start (NotConfigured-like)."""

    reason = "unavailable"


class BrowserTimeout(BrowserError):
    """Page load timed out, or ``wait_until`` was not met in ``wait_time``."""

    reason = "timeout"


class _BrowserClosed(BrowserError):
    """The crawl is closing; the browser takes no more pages."""

    reason = "closed"
