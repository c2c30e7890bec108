"""`departments preview URL`: who a crawl of one page would collect, before the page becomes a
registry entry.

The page is fetched by the real spider in dry-run mode (robots.txt, rate limits, user agent,
rendering when needed: everything a crawl does), under a throw-away registry entry. By default
only that page is read; `follow` also reads its pagination and the people's own pages. With
thumbnails the photos of the people found are downloaded too (politely, like a crawl) and
shrunk into the report, so that `write_preview_html` can show each face: decoys are listed by
URL and reason only, never downloaded.
"""
from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from infra.settings import Settings
from spiders.runner import CrawlResult, run_crawl

__all__ = ["PreviewResult", "preview_page", "write_preview_html", "PREVIEW_SLUG"]

PREVIEW_SLUG = "preview"


@dataclass
class PreviewResult:
    url: str
    crawl: CrawlResult

    @property
    def ok(self) -> bool:
        return self.crawl.ok

    @property
    def people(self) -> list[dict]:
        return self.crawl.people

    @property
    def unfollowed(self) -> list[dict]:
        """People listed with a link to their own page, which a one-page preview does not read."""
        return self.crawl.report.get("unfollowed", [])

    @property
    def skipped_images(self) -> list[dict]:
        return self.crawl.report.get("skipped_images", [])

    def as_dict(self) -> dict:
        out = self.crawl.dry_run_summary()
        out.update(url=self.url, unfollowed=self.unfollowed, skipped_images=self.skipped_images)
        return out


def preview_page(url: str, settings: Settings, *, follow: bool = False, thumbnails: bool = False,
                 render_js: str = "auto", timeout: float = 600) -> PreviewResult:
    """Dry-run crawl of *url* under a temporary registry entry; see the module's docstring."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    entry = {"slug": PREVIEW_SLUG, "university": parts.hostname, "department": "preview", "category": "preview",
             "start_urls": [url], "render_js": render_js}
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        registry = Path(tmp) / "departments.yaml"
        registry.write_text(yaml.safe_dump({"departments": [entry]}, allow_unicode=True), encoding="utf-8")
        scrapy_settings = {"PREVIEW_ONE_PAGE": str(int(not follow)), "PREVIEW_THUMBNAILS": str(int(thumbnails))}
        result = run_crawl(PREVIEW_SLUG, settings.replace(departments_file=registry), dry_run=True,
                           timeout=timeout, scrapy_settings=scrapy_settings)
    return PreviewResult(url, result)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:2em}
.people{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;width:170px;border:1px solid #ddd;border-radius:6px;padding:6px;background:#fafafa}
figure img{width:160px;height:160px;object-fit:contain;background:#eee;display:block}
figcaption{font-weight:600;word-break:break-word} .noimg{width:160px;height:160px;background:#eee;
display:flex;align-items:center;justify-content:center;color:#888;font-size:12px;text-align:center}
table{border-collapse:collapse} td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;
vertical-align:top} td.url{word-break:break-all;max-width:60em} .bad{color:#a00}
"""


def _link(url: str | None) -> str:
    if not url:
        return ""
    return f'<a href="{html.escape(url)}">{html.escape(url)}</a>'


def _person_card(person: dict) -> str:
    name = html.escape(person.get("name") or "")
    if person.get("thumbnail", "").startswith("data:image/jpeg;base64,"):
        picture = f'<img src="{html.escape(person["thumbnail"])}" alt="{name}">'
    else:
        why = person.get("thumbnail_error") or "not downloaded"
        picture = f'<div class="noimg">{html.escape(why)}</div>'
    return (f"<figure>{picture}<figcaption>{name}</figcaption>"
            f'<small>{_link(person.get("photo_url"))}</small></figure>')


def render_preview_html(preview: PreviewResult) -> str:
    """One self-contained page (inline style, thumbnails as data URIs, no scripts)."""
    data = preview.as_dict()
    rows = [f"<h1>Preview of {_link(preview.url)}</h1>",
            f"<p>{len(data['people'])} people with a photo would be collected; "
            f"{data['pages_fetched']} page(s) read.</p>"]
    if data["failure"]:
        rows.append(f'<p class="bad">The crawl failed: {html.escape(data["failure"])}</p>')
    rows.append('<h2>People</h2><div class="people">')
    rows += [_person_card(p) for p in preview.people]
    rows.append("</div>")
    if data["unfollowed"]:
        rows.append("<h2>Listed with a link to their own page (not read; use --follow)</h2><table>"
                    "<tr><th>name</th><th>their page</th></tr>")
        rows += [f"<tr><td>{html.escape(p['name'])}</td><td class=url>{_link(p['detail_url'])}</td></tr>"
                 for p in data["unfollowed"]]
        rows.append("</table>")
    rows.append("<h2>Skipped images</h2><table><tr><th>reason</th><th>image</th></tr>")
    rows += [f"<tr><td>{html.escape(s['reason'])}</td><td class=url>{_link(s['url'])}</td></tr>"
             for s in data["skipped_images"]]
    rows.append("</table><h2>Counts</h2><table><tr><th>reason</th><th>count</th></tr>")
    rows += [f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in data["skipped"].items()]
    rows.append("</table>")
    body = "\n".join(rows)
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Preview: {html.escape(preview.url)}</title>'
            f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def write_preview_html(preview: PreviewResult, path: Path) -> Path:
    """Write the preview page atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".preview-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render_preview_html(preview))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
