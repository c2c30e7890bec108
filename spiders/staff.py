"""The staff-page spider, and one spider class per registry entry (named by its slug).

`StaffSpider` walks a department's start pages, pagination and per-person detail pages,
finds (name, portrait) pairs with the generic extractor (or the entry's selectors), and
requests each photo once, conditionally when it was seen before. Pages are rendered in
Chromium when the entry says `render_js: true`, or with `auto` when the plain HTML yields
no people but the page has scripts.
"""
from __future__ import annotations

import re
from collections import defaultdict

import scrapy
from scrapy.http import TextResponse

from infra.privacy import Denylist, pseudonym
from infra.settings import load_settings
from spiders.crawl_state import RejectedPhotos
from spiders.extract import Selectors, extract_detail, extract_page, name_key
from spiders.failures import failure_reason
from spiders.items import PhotoItem
from spiders.middlewares.browser import BrowserRequest
from spiders.optout import header_opt_out, html_opt_out
from spiders.registry import Department, load_registry

MAX_EXAMPLES = 500
# Photo candidates the extractor rejects that are bad input rather than page decoration.
BAD_PHOTO_REASONS = frozenset({"svg", "data_uri"})
SVG_PATH = re.compile(r"\.svgz?$", re.IGNORECASE)


class StaffSpider(scrapy.Spider):
    department: Department  # set on each generated subclass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dept = self.department
        self.selectors = Selectors.from_mapping(dict(dept.selectors)) if dept.selectors else None
        # Both filled by the store pipeline from the object store when the crawl opens:
        self.known_images: dict[str, dict] = {}  # image_url -> index row
        self.rejected = RejectedPhotos()  # photo URLs rejected by earlier crawls
        self.denylist = Denylist()  # removal requests: never requested, never stored
        project = load_settings()  # the key stays out of Scrapy's settings (and so out of its logs)
        self.pseudonym_key = project.pseudonym_key if project.pseudonymise_names else None
        self.photo_claims: dict[str, set[str]] = defaultdict(set)  # image_url -> people (name keys)
        self.skipped_examples: list[dict] = []
        self.found_people: list[dict] = []  # dry run: who would be collected
        self.skipped_images: list[dict] = []  # dry run: images the extractor passed over, with reasons
        self.unfollowed: list[dict] = []  # dry run, one page only: people whose photo is on their own page

    # -- bookkeeping ---------------------------------------------------------------------
    def skip(self, reason: str, url: str, name: str | None = None, image: bool = False) -> None:
        """Count and log why something was not collected."""
        stats = self.crawler.stats
        stats.inc_value(f"skip/{reason}")
        if image:
            stats.inc_value("images/failed")
        if len(self.skipped_examples) < MAX_EXAMPLES:
            self.skipped_examples.append({"reason": reason, "url": url[:300]})
        # Names of people stay out of INFO logs (privacy); DEBUG shows them when diagnosing.
        self.logger.info("skipped (%s): %s", reason, url[:200])
        if name:
            self.logger.debug("skipped (%s): %s [%s]", reason, url[:200], name)

    def stored_name(self, name: str) -> tuple[str, str]:
        """(name, name key) as the index keeps them: pseudonyms when the settings ask for them."""
        key = name_key(name)
        if self.pseudonym_key:
            key = pseudonym(self.pseudonym_key, key)
            return key, key
        return name, key

    def placeholder_urls(self) -> set[str]:
        return {url for url, people in self.photo_claims.items() if len(people) > 1}

    def dry_run_people(self) -> list[dict]:
        """Who the dry run would collect: one picture shown for several people is a placeholder."""
        shared = self.placeholder_urls()
        return [p for p in self.found_people if p["photo_url"] not in shared]

    @property
    def follows_links(self) -> bool:
        """False for a one-page preview: no pagination, no detail pages."""
        return not self.settings.getbool("PREVIEW_ONE_PAGE")

    # -- requests ------------------------------------------------------------------------
    async def start(self):
        for url in self.department.start_urls:
            yield self.page_request(url, render=self.department.render_js == "true")

    def page_request(self, url: str, *, render: bool = False, callback=None, meta=None,
                     dont_filter: bool = False) -> scrapy.Request:
        cls = BrowserRequest if render else scrapy.Request
        meta = {"download_maxsize": self.settings.getint("PAGE_MAX_BYTES"), **(meta or {})}
        return cls(url, callback=callback or self.parse, errback=self.page_failed, meta=meta,
                   dont_filter=dont_filter)

    def photo_request(self, name: str, photo_url: str, page_url: str, role: str | None = None):
        """One request per photo URL; later people claiming the same URL are only recorded."""
        if photo_url.startswith("data:"):
            self.skip("data_uri", photo_url[:60], name, image=True)
            return
        if not photo_url.startswith(("http://", "https://")):
            self.skip("bad_url", photo_url, name, image=True)
            return
        if SVG_PATH.search(photo_url.split("?")[0]):
            self.skip("svg", photo_url, name, image=True)
            return
        if self.denylist.denies_url(photo_url) or self.denylist.denies_person(self.department.university,
                                                                              name_key(name)):
            self.skip("denied", photo_url, name)
            return
        first = photo_url not in self.photo_claims
        self.photo_claims[photo_url].add(name_key(name))
        if not first:
            return
        self.crawler.stats.inc_value("people/found")
        if self.settings.getbool("DRY_RUN"):
            self.found_people.append({"name": name, "photo_url": photo_url, "page_url": page_url, "role": role})
            if self.settings.getbool("PREVIEW_THUMBNAILS"):  # a preview shows each face, small
                yield scrapy.Request(photo_url, callback=self.thumbnail_received, errback=self.thumbnail_failed,
                                     meta={"download_maxsize": self.settings.getint("IMAGE_MAX_BYTES"),
                                           "found": self.found_people[-1]}, dont_filter=True)
            return
        meta = {"download_maxsize": self.settings.getint("IMAGE_MAX_BYTES"), "handle_httpstatus_list": [304],
                "person": name, "role": role, "page_url": page_url}
        # Conditional request for anything seen before, stored or rejected.
        validators = self.known_images.get(photo_url)
        rejected = self.rejected.get(photo_url)
        if rejected:
            if not (rejected.get("etag") or rejected.get("last_modified")) and self.rejected.still_fresh(rejected):
                self.skip(rejected["reason"], photo_url, name, image=True)
                return
            validators, meta["rejected_reason"] = rejected, rejected["reason"]
        headers = {}
        if validators and validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators and validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        # dont_filter: photo_claims already dedupes; the dupe filter would silently swallow
        # a redirect loop instead of letting it end as redirect_loop.
        yield scrapy.Request(photo_url, callback=self.photo_received, errback=self.photo_failed,
                             headers=headers, meta=meta, dont_filter=True)

    # -- callbacks -----------------------------------------------------------------------
    def parse(self, response):
        self.crawler.stats.inc_value("pages/fetched")
        if not isinstance(response, TextResponse):
            self.skip("page_not_html", response.url)
            return
        if header_opt_out(response.headers) or html_opt_out(response.body):
            self.skip("page_noai", response.url)
            return
        result = extract_page(response.text, response.url, self.selectors)
        for reason, count in result.skipped.items():
            if reason in BAD_PHOTO_REASONS:
                for _ in range(count):
                    self.skip(reason, response.url, image=True)
            else:
                self.crawler.stats.inc_value(f"extract/{reason}", count)
        self.logger.debug("%s: %d people, rejected candidates %s", response.url, len(result.people),
                          dict(result.skipped))
        if self.settings.getbool("DRY_RUN"):
            room = MAX_EXAMPLES - len(self.skipped_images)
            self.skipped_images += [{"url": url, "reason": why, "page_url": response.url}
                                    for url, why in result.skipped.images[:max(0, room)]]
        if not result.people and self._should_render(response, result.has_scripts):
            yield self.page_request(response.url, render=True, dont_filter=True, meta=response.meta.get("carry"))
            return
        rendered = bool(response.meta.get("rendered"))
        for person in result.people:
            if person.photo_url:
                yield from self.photo_request(person.name, person.photo_url, response.url, person.role)
            elif person.detail_url and not self.follows_links:
                self.unfollowed.append({"name": person.name, "detail_url": person.detail_url,
                                        "page_url": response.url})
            elif person.detail_url and self.department.allows(person.detail_url):
                carry = {"expected_name": person.name, "listed_role": person.role}
                yield self.page_request(person.detail_url, render=rendered, callback=self.parse_detail,
                                        meta={"carry": carry, **carry})
            else:
                self.skip("no_photo", response.url, person.name)
        for url in result.next_pages if self.follows_links else ():
            if self.department.allows(url):
                yield self.page_request(url, render=rendered)

    def parse_detail(self, response):
        self.crawler.stats.inc_value("pages/fetched")
        expected = response.meta.get("expected_name")
        if not isinstance(response, TextResponse):
            self.skip("page_not_html", response.url, expected)
            return
        if header_opt_out(response.headers) or html_opt_out(response.body):
            self.skip("page_noai", response.url, expected)
            return
        person = extract_detail(response.text, response.url, expected)
        if person is None or not person.photo_url:
            scripts = "<script" in response.text.lower()
            if self._should_render(response, scripts):
                yield self.page_request(response.url, render=True, callback=self.parse_detail, dont_filter=True,
                                        meta={"expected_name": expected,
                                              "listed_role": response.meta.get("listed_role")})
            else:
                self.skip("no_photo", response.url, expected)
            return
        yield from self.photo_request(person.name, person.photo_url, response.url,
                                      response.meta.get("listed_role") or person.role)

    def _should_render(self, response, has_scripts: bool) -> bool:
        return self.department.render_js == "auto" and has_scripts and not response.meta.get("rendered")

    def photo_received(self, response):
        meta = response.meta
        if response.status == 304 and meta.get("rejected_reason"):
            self.skip(meta["rejected_reason"], response.url, meta["person"], image=True)  # still the same bad file
            return
        if header_opt_out(response.headers):
            self.rejected.remember(response.url, "noai", _header(response, b"ETag"), _header(response, b"Last-Modified"))
            self.skip("noai", response.url, meta["person"], image=True)
            return
        dept = self.department
        shown_name, key = self.stored_name(meta["person"])
        item = PhotoItem(
            slug=dept.slug, category=dept.category, department=dept.department, university=dept.university,
            name=shown_name, name_key=key, page_url=meta["page_url"], role=meta.get("role"),
            image_url=response.request.url,
            body=None if response.status == 304 else response.body,
            etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
            declared_type=_header(response, b"Content-Type"),
        )
        if response.status == 304:
            known = self.known_images.get(item.image_url, {})
            item.etag = item.etag or known.get("etag")
            item.last_modified = item.last_modified or known.get("last_modified")
        yield item

    def thumbnail_received(self, response):
        response.meta["found"].update(thumbnail_data_uri(response.body))

    def thumbnail_failed(self, failure):
        failure.request.meta["found"]["thumbnail_error"] = failure_reason(failure)

    def page_failed(self, failure):
        self.skip("page_" + failure_reason(failure), failure.request.url, failure.request.meta.get("expected_name"))

    def photo_failed(self, failure):
        reason = failure_reason(failure)
        if reason == "too_large":  # cut off before its validators were kept: wait before trying again
            self.rejected.remember(failure.request.url, reason)
        self.skip(reason, failure.request.url, failure.request.meta.get("person"), image=True)


def thumbnail_data_uri(body: bytes, size: int = 160) -> dict:
    """{'thumbnail': data URI of a small JPEG} or {'thumbnail_error': why} for a downloaded photo."""
    import base64
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body)) as img:
            img.draft("RGB", (size, size))  # decode JPEGs at reduced size: cheap for large photos
            img = img.convert("RGB")
            img.thumbnail((size, size))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        return {"thumbnail_error": f"not a readable image ({type(exc).__name__})"}
    return {"thumbnail": "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()}


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _class_name(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-")) + "Spider"


def spider_class(dept: Department) -> type[StaffSpider]:
    return type(_class_name(dept.slug), (StaffSpider,), {"name": dept.slug, "department": dept, "__module__": __name__})


# One spider per registry entry, so `scrapy list` / `scrapy crawl <slug>` see them.
for _dept in load_registry(load_settings().departments_file):
    if not _dept.custom_spider:
        globals()[_class_name(_dept.slug)] = spider_class(_dept)
