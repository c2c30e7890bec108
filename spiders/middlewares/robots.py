"""robots.txt for every request, including those that wait for robots.txt to arrive.

Scrapy 2.19's RobotsTxtMiddleware lets all requests to a site that arrive while its
robots.txt is downloading await one shared Deferred; under the asyncio reactor the first
awaiting converts it to a future and consumes its result, so the other waiters see
"no robots.txt" and are let through. Here each waiter gets its own Deferred, chained
from the shared one, so every request is checked.
"""
from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()

            def relay(result):
                waiter.callback(result)
                return result  # keep the result for the next waiter

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
