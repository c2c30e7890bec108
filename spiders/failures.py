"""Name why a download failed, as a short reason counted in crawl stats and reports."""
from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError
from twisted.python.failure import Failure


def failure_reason(failure: Failure) -> str:
    """A stable reason for a failed request: http_404, robots_disallowed, redirect_loop, ..."""
    exc = failure.value
    if failure.check(HttpError):
        return f"http_{exc.response.status}"
    message = str(exc)
    if failure.check(IgnoreRequest):
        if "robots.txt" in message:
            return "robots_disallowed"
        if "max redirections" in message:
            return "redirect_loop"
        if "offsite" in message.lower():
            return "offsite"
        if type(exc).__name__ == "BrowserError":
            return "render_failed"
        return "ignored"
    if failure.check(DownloadCancelledError) or "larger than download max size" in message:
        return "too_large"
    if failure.check(DownloadTimeoutError, TimeoutError):
        return "timeout"
    if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
        return "connection_refused"
    if failure.check(CannotResolveHostError, DNSLookupError):
        return "dns_error"
    return "download_failed"
