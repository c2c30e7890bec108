"""Store photos in the object store and keep the department's index shard.

Order of writes keeps the index consistent if anything dies mid-crawl: an image object
is written (whole, one PUT) before any index row can name it; the shard is written as one
object at checkpoints and at the end; the merged ``raw/index.csv`` is rebuilt last.
"""
from __future__ import annotations

import re

import contextlib
import json
import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from infra.index import read_shard, rebuild_merged_index, shard_slugs, write_shard
from infra.privacy import load_denylist
from infra.services import storage_settings
from infra.settings import load_settings
from infra.store import ObjectStore, StoreError, keys
from spiders.crawl_state import RejectedPhotos
from spiders.index_update import update_shard
from spiders.items import PhotoItem
from spiders.roles import person_role

logger = logging.getLogger(__name__)
TRANSIENT_PHOTO_FAILURE = re.compile(r"timeout|download_failed|connection_refused|dns_error|http_(408|429|5\d\d)")


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class ObjectStorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.checkpoint_every = crawler.settings.getint("INDEX_CHECKPOINT_ITEMS", 200)
        self.sightings: list[dict] = []
        self.uploaded: set[str] = set()
        self.since_checkpoint = 0
        self.started = utc_now()
        self._services = contextlib.ExitStack()
        self.store: ObjectStore | None = None
        self.previous = None
        # Shard and report are written on spider_closed, where the finish reason is known.
        crawler.signals.connect(self._closed, signal=signals.spider_closed)
        # Dry run: find people, store nothing (the report alone says what would be collected).
        self.dry_run = crawler.settings.getbool("DRY_RUN")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider

    def open_spider(self) -> None:
        if self.dry_run:
            return
        settings = self._services.enter_context(storage_settings(load_settings()))
        self.store = ObjectStore.from_settings(settings)
        self.store.ensure_bucket()
        self.previous = read_shard(self.store, self.spider.name)
        self.spider.denylist = load_denylist(self.store)
        self.spider.rejected = RejectedPhotos.load(self.store, self.spider.name,
                                                   self.crawler.settings.getfloat("REJECTED_RECHECK_DAYS", 30.0))
        # The spider sends conditional requests for photos it already has.
        self.spider.known_images = {
            row["image_url"]: row for row in self.previous.to_dict("records") if row["status"] != "vanished"
        }

    # -- items -------------------------------------------------------------------------
    def _put_image(self, key: str, item: PhotoItem) -> bool:
        """Store the photo unless its content address exists already; True if uploaded."""
        if self.store.exists(key):
            return False
        self.store.put_bytes(key, item.body, item.content_type, metadata={"source-url": item.image_url[:1024]})
        return True

    async def process_item(self, item: PhotoItem):
        stats = self.crawler.stats
        if item.not_modified:
            known = self.spider.known_images.get(item.image_url)
            if known is None:  # 304 for something we never had: should not happen
                raise DropItem(f"not modified but unknown: {item.image_url}")
            row = {**known, "page_url": item.page_url, "name": item.name, "name_key": item.name_key,
                   **person_role(item.name, item.role)}
            stats.inc_value("images/unchanged")
        elif self.spider.denylist.denies_id(item.image_id):  # the same photo under a new URL
            self.spider.skip("denied", item.image_url, item.name)
            raise DropItem("denied by a removal request")
        else:
            key = keys.raw_image(item.image_id, item.extension)
            try:
                # Off the reactor thread: downloads go on while photos are uploaded.
                if await maybe_deferred_to_future(deferToThread(self._put_image, key, item)):
                    self.uploaded.add(item.image_id)
            except StoreError as exc:
                stats.inc_value("images/store_failed")
                self.spider.skip("store_error", item.image_url, item.name, image=True)
                raise DropItem(f"store_error: {exc}") from None
            row = {
                "id": item.image_id, "category": item.category, "image_url": item.image_url,
                "name": item.name, "page_url": item.page_url, "department": item.department,
                "university": item.university, "slug": item.slug, "name_key": item.name_key,
                "sha256": item.sha256, "width": item.width, "height": item.height,
                "content_type": item.content_type, "bytes": len(item.body), "image_key": key,
                "etag": item.etag, "last_modified": item.last_modified, "look": item.look,
                **person_role(item.name, item.role),
            }
        self.sightings.append(row)
        self.since_checkpoint += 1
        if self.since_checkpoint >= self.checkpoint_every:
            self._write_shard(complete=False)
        return item

    # -- shard -------------------------------------------------------------------------
    def _write_shard(self, complete: bool):
        update = update_shard(self.previous, self.sightings, utc_now(), complete,
                              frozenset(self.spider.placeholder_urls()))
        write_shard(self.store, self.spider.name, update.frame)
        self.since_checkpoint = 0
        return update

    def _closed(self, spider, reason):
        try:
            self._finish(reason)
        finally:
            self._services.close()

    def _finish(self, reason: str) -> None:
        if self.store is None:
            if self.dry_run:
                for url in self.spider.placeholder_urls():  # what a real crawl would drop as placeholders
                    self.crawler.stats.inc_value("skip/shared_placeholder", len(self.spider.photo_claims[url]))
                self._write_report(reason)
            return
        stats = self.crawler.stats
        page_errors = sum(v for k, v in stats.get_stats().items()
                          if k.startswith("skip/page_") and not k.endswith(("robots_disallowed", "offsite")))
        # A photo that could not be fetched (server error, timeout, dropped connection) says
        # nothing about whether its person left: such a crawl must not mark anyone vanished.
        photo_errors = sum(v for k, v in stats.get_stats().items()
                           if k.startswith("skip/") and TRANSIENT_PHOTO_FAILURE.fullmatch(k[5:]))
        complete = (reason == "finished" and page_errors == 0 and photo_errors == 0
                    and not stats.get_value("images/store_failed"))
        try:
            update = self._write_shard(complete)
            self._forget_placeholders(update.dropped)
            stats.set_value("images/new", len(update.new_ids))
            stats.set_value("people/present", int((update.frame["status"] == "present").sum()))
            stats.set_value("people/vanished", int((update.frame["status"] == "vanished").sum()))
            for row in self.sightings:
                if row["id"] in update.dropped:
                    self.spider.rejected.remember(row["image_url"], update.dropped[row["id"]], row.get("etag"),
                                                  row.get("last_modified"))
            for image_id, why in update.dropped.items():
                self.spider.skip(why, image_id)
            self.spider.rejected.save(self.store, self.spider.name)
            _, problems = rebuild_merged_index(self.store)
            for problem in problems:
                logger.warning("merged index: %s", problem)
        except StoreError as exc:
            logger.error("could not write the index of %s: %s (the previous index is unchanged)",
                         self.spider.name, exc)
            stats.set_value("index/write_failed", 1)
        stats.set_value("index/complete", complete)
        self._write_report(reason)

    def _forget_placeholders(self, dropped: dict[str, str]) -> None:
        """Delete placeholder images this crawl uploaded that no other shard names."""
        if not (dropped.keys() & self.uploaded):
            return
        referenced = set()
        for slug in shard_slugs(self.store):
            if slug != self.spider.name:
                referenced |= set(read_shard(self.store, slug)["id"].dropna())
        for image_id in (dropped.keys() & self.uploaded) - referenced:
            for obj in self.store.list(f"{keys.RAW_IMAGES}{image_id}."):
                self.store.delete(obj.key)

    def _write_report(self, reason: str) -> None:
        stats = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                 for k, v in self.crawler.stats.get_stats().items()}
        report = {
            "slug": self.spider.name, "started": self.started, "finished": utc_now(),
            "finish_reason": reason, "stats": stats, "skipped": self.spider.skipped_examples,
            "dry_run": self.dry_run,
        }
        if self.dry_run:
            report["people"] = self.spider.dry_run_people()
            report["skipped_images"] = self.spider.skipped_images
            report["unfollowed"] = self.spider.unfollowed
        data = json.dumps(report, indent=1, sort_keys=True).encode()
        path = self.crawler.settings.get("CRAWL_REPORT_FILE")
        if path:
            with open(path, "wb") as fh:
                fh.write(data)
        if self.store is None:
            return
        with contextlib.suppress(StoreError):
            self.store.put_bytes(keys.crawl_report(self.spider.name), data, "application/json")
