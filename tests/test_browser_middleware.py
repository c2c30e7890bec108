"""Tests for spiders.middlewares.browser (real Chromium, real local pages).

Real crawls run in subprocesses (Twisted's reactor cannot be restarted in one
process); the helper spider writes what it saw to a JSON file.  Pages are
served on 127.0.0.1 by a ThreadingHTTPServer that records every path it was
asked for (and the User-Agent that asked).
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
USER_AGENT = "academic-faces-test/1.0 (+http://127.0.0.1/bot)"
ROBOTS_BROWSER_REQUESTS = 3  # disallowed BrowserRequests queued behind robots.txt

pytestmark = [pytest.mark.slow, pytest.mark.skipif(  # starts Chromium and crawl subprocesses
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="needs Chromium and ChromeDriver",
)]

PAGES = {
    "robots.txt": "User-agent: *\nDisallow: /private/\n",
    "private/secret.html": "<html><body><p>secret</p></body></html>",
    "static.html": "<html><head><title>Static</title></head><body><p id='s'>static page</p></body></html>",
    "hold.html": "<html><body><p>nothing ever appears here</p></body></html>",
    # people built from inline JSON (synchronously, and one more after a timer)
    "inline.html": """<html><head><title>Inline</title></head><body>
<ul id="people"></ul>
<script id="data" type="application/json">
[{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]
</script>
<script>
  const ul = document.getElementById('people');
  const add = n => { const li = document.createElement('li'); li.textContent = n; ul.appendChild(li); };
  JSON.parse(document.getElementById('data').textContent).forEach(p => add(p.name));
  setTimeout(() => add('Grace Hopper'), 150);
</script></body></html>""",
    # people fetched after load (the server delays people.json by 0.6 s, longer
    # than the DOM-quiet period, so only the fetch tracker makes us wait)
    "fetch.html": """<html><head><title>Fetch</title></head><body>
<ul id="people"></ul>
<script>
  fetch('people.json').then(r => r.json()).then(people => {
    const ul = document.getElementById('people');
    people.forEach(p => { const li = document.createElement('li'); li.textContent = p.name; ul.appendChild(li); });
  });
</script></body></html>""",
    "people.json": json.dumps([{"name": "Emmy Noether"}, {"name": "Kurt Goedel"}]),
    "late.html": """<html><body><p>wait for it</p>
<script>setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<p id="late">late content</p>'), 600);</script>
</body></html>""",
    "slow.html": "<html><body>never served in time</body></html>",
}


class _Handler(http.server.SimpleHTTPRequestHandler):
    hits: list[tuple[str, str]]  # set per server

    def do_GET(self):  # noqa: N802
        self.server.hits.append((self.path, self.headers.get("User-Agent", "")))
        path = self.path.split("?", 1)[0]
        try:
            if path == "/slow.html":
                time.sleep(5)
            elif path == "/robots.txt":
                time.sleep(0.5)  # so that all start requests queue up behind it
            elif path == "/people.json":
                time.sleep(0.6)
            super().do_GET()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for name, text in PAGES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    server.daemon_threads = True
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


SPIDER_SCRIPT = r'''
import json, os, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from spiders.middlewares.browser import BrowserError, BrowserMiddleware, BrowserRequest, SeleniumRequest
from spiders.middlewares.browser.driver import _pids_with_arg

BASE, OUT, MODE, CLOSED_PORT = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ROBOTS_BROWSER_REQUESTS = __ROBOTS_N__
T0 = time.monotonic()
events = []
browser_info = {}


def browser_mw(crawler):
    for mw in crawler.engine.downloader.middleware.middlewares:
        if isinstance(mw, BrowserMiddleware):
            return mw


class TestSpider(scrapy.Spider):
    name = "browser_test"

    async def start(self):
        if MODE == "missing":
            yield BrowserRequest(BASE + "/inline.html", cb_kwargs={"tag": "inline"}, errback=self.failed)
            yield BrowserRequest(BASE + "/fetch.html", cb_kwargs={"tag": "fetch"}, errback=self.failed)
            yield scrapy.Request(BASE + "/static.html", cb_kwargs={"tag": "static"}, errback=self.failed)
            return
        # occupies the browser ~2 s (condition never met) while static pages download
        yield BrowserRequest(BASE + "/hold.html", priority=100, wait_time=2,
                             wait_until=EC.presence_of_element_located((By.ID, "never")),
                             cb_kwargs={"tag": "hold"}, errback=self.failed)
        yield scrapy.Request(BASE + "/static.html", priority=50, cb_kwargs={"tag": "static"}, errback=self.failed)
        # Several disallowed pages waiting for robots.txt at once (not the first
        # waiter): Scrapy 2.19's own RobotsTxtMiddleware let these through.
        for i in range(1, ROBOTS_BROWSER_REQUESTS + 1):
            yield BrowserRequest(BASE + f"/private/secret.html?n={i}", cb_kwargs={"tag": f"robots{i}"},
                                 errback=self.failed)
        yield scrapy.Request(BASE + "/private/secret.html?plain", cb_kwargs={"tag": "robots-plain"},
                             errback=self.failed)
        yield BrowserRequest(BASE + "/inline.html", cb_kwargs={"tag": "inline"}, errback=self.failed)
        yield SeleniumRequest(BASE + "/fetch.html", cb_kwargs={"tag": "fetch"}, errback=self.failed)
        yield BrowserRequest(
            BASE + "/static.html?script",
            script="document.body.insertAdjacentHTML('beforeend', '<p id=\"injected\">added by script</p>');"
                   " return document.title;",
            cb_kwargs={"tag": "script"}, errback=self.failed)
        yield BrowserRequest(BASE + "/inline.html?shot", screenshot=True, cb_kwargs={"tag": "shot"}, errback=self.failed)
        yield BrowserRequest(BASE + "/late.html", wait_time=5,
                             wait_until=EC.presence_of_element_located((By.ID, "late")),
                             cb_kwargs={"tag": "late"}, errback=self.failed)
        yield BrowserRequest(BASE + "/slow.html", cb_kwargs={"tag": "slow"}, errback=self.failed)
        yield BrowserRequest(BASE + "/missing.html", cb_kwargs={"tag": "404"}, errback=self.failed)
        yield BrowserRequest(f"http://127.0.0.1:{CLOSED_PORT}/x.html", cb_kwargs={"tag": "refused"},
                             errback=self.failed)

    def parse(self, response, tag):
        mw = browser_mw(self.crawler)
        if mw is not None and mw._browser is not None and not browser_info:
            browser_info["profile"] = mw._browser.profile_dir
            browser_info["driver_pid"] = mw._browser.driver_pid
        shot = response.meta.get("screenshot")
        events.append({
            "tag": tag, "ok": True, "t": time.monotonic() - T0,
            "url": response.url, "status": response.status,
            "rendered": response.meta.get("rendered", False),
            "flags": response.flags,
            "names": response.css("#people li::text").getall(),
            "injected": response.css("#injected::text").get(),
            "late": response.css("#late::text").get(),
            "script_result": response.meta.get("script_result"),
            "settled": response.meta.get("browser_settled"),
            "screenshot_head": shot[:8].hex() if shot else None,
            "screenshot_len": len(shot) if shot else 0,
            "latency": response.meta.get("download_latency"),
        })

    def failed(self, failure):
        request = failure.request
        tag = request.cb_kwargs.get("tag")
        events.append({
            "tag": tag, "ok": False, "t": time.monotonic() - T0,
            "error": type(failure.value).__name__,
            "is_browser_error": isinstance(failure.value, BrowserError),
            "is_ignore_request": isinstance(failure.value, scrapy.exceptions.IgnoreRequest),
            "message": str(failure.value),
        })
        if tag == "slow":  # the browser must still work after a timeout
            yield BrowserRequest(BASE + "/inline.html?after-timeout",
                                 cb_kwargs={"tag": "recovered"}, errback=self.failed)


settings = {
    "ROBOTSTXT_OBEY": True,
    "USER_AGENT": "__UA__",
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "spiders.middlewares.robots.RobotsTxtMiddleware": 100,
        "spiders.middlewares.browser.BrowserMiddleware": 800,
    },
    "BROWSER_PAGE_LOAD_TIMEOUT": 1.5,
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "INFO",
}
if MODE == "missing":
    settings["BROWSER_BINARY"] = "/nonexistent/chromium"
process = CrawlerProcess(settings=settings)
crawler = process.create_crawler(TestSpider)
process.crawl(crawler)
t = time.monotonic()
process.start()
crawl_seconds = time.monotonic() - t

left = []
driver_alive = False
if browser_info:
    left = _pids_with_arg(browser_info["profile"])
    pid = browser_info["driver_pid"]
    try:
        with open(f"/proc/{pid}/stat") as fh:
            driver_alive = fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        driver_alive = False
with open(OUT, "w") as fh:
    json.dump({
        "events": events,
        "stats": crawler.stats.get_stats(),
        "browser": browser_info,
        "leftover_pids": left,
        "driver_alive": driver_alive,
        "profile_exists": bool(browser_info) and os.path.exists(browser_info["profile"]),
        "crawl_seconds": crawl_seconds,
    }, fh, default=str)
'''


def _run_crawl(site, tmp_path: Path, mode: str) -> dict:
    script = tmp_path / f"crawl_{mode}.py"
    script.write_text(SPIDER_SCRIPT.replace("__UA__", USER_AGENT)
                      .replace("__ROBOTS_N__", str(ROBOTS_BROWSER_REQUESTS)))
    out = tmp_path / f"result_{mode}.json"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed_port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.run(
        [sys.executable, str(script), site.base, str(out), mode, str(closed_port)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert out.exists(), proc.stderr[-4000:]
    result = json.loads(out.read_text())
    result["log"] = proc.stderr
    return result


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    return _run_crawl(site, tmp_path_factory.mktemp("crawl"), "main")


def _event(result, tag):
    found = [e for e in result["events"] if e["tag"] == tag]
    assert len(found) == 1, (tag, result["events"], result["log"][-3000:])
    return found[0]


# -- (1) script-built content --------------------------------------------------

def test_inline_json_people_are_rendered(crawl):
    ev = _event(crawl, "inline")
    assert ev["ok"] and ev["rendered"] and ev["status"] == 200
    assert ev["names"] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert "browser" in ev["flags"]
    assert ev["settled"] is True


def test_fetched_people_are_rendered(crawl, site):
    ev = _event(crawl, "fetch")
    assert ev["ok"] and ev["rendered"]
    assert ev["names"] == ["Emmy Noether", "Kurt Goedel"]
    # the browser identifies itself like the crawler, for pages and sub-resources
    uas = {ua for path, ua in site.hits if path in ("/fetch.html", "/people.json", "/inline.html")}
    assert uas == {USER_AGENT}


def test_wait_until_condition(crawl):
    ev = _event(crawl, "late")
    assert ev["ok"] and ev["late"] == "late content"


# -- (2) script ----------------------------------------------------------------

def test_script_runs_and_its_effect_is_visible(crawl):
    ev = _event(crawl, "script")
    assert ev["ok"] and ev["rendered"]
    assert ev["injected"] == "added by script"
    assert ev["script_result"] == "Static"


# -- (3) screenshot ------------------------------------------------------------

def test_screenshot_is_png(crawl):
    ev = _event(crawl, "shot")
    assert ev["ok"]
    assert ev["screenshot_head"] == "89504e470d0a1a0a"
    assert ev["screenshot_len"] > 100
    assert _event(crawl, "inline")["screenshot_head"] is None


# -- (4) plain requests pass through ---------------------------------------------

def test_plain_request_passes_through_in_crawl(crawl):
    ev = _event(crawl, "static")
    assert ev["ok"] and not ev["rendered"] and "browser" not in ev["flags"]


def test_plain_request_returns_none_and_starts_no_browser():
    import scrapy
    from scrapy.utils.test import get_crawler

    from spiders.middlewares.browser import BrowserMiddleware

    mw = BrowserMiddleware.from_crawler(get_crawler(settings_dict={}))
    assert asyncio.run(mw.process_request(scrapy.Request("http://127.0.0.1/x"))) is None
    assert mw._browser is None and mw._pool is None


def test_request_interface_survives_copy():
    from spiders.middlewares.browser import BrowserRequest, SeleniumRequest

    cond = object()
    req = SeleniumRequest("http://127.0.0.1/p", wait_time=3, wait_until=cond, screenshot=True, script="1")
    assert SeleniumRequest is BrowserRequest
    copy = req.replace(url="http://127.0.0.1/q")
    assert isinstance(copy, BrowserRequest)
    assert (copy.wait_time, copy.wait_until, copy.screenshot, copy.script) == (3, cond, True, "1")


def test_static_pages_download_while_browser_is_busy(crawl):
    static, hold = _event(crawl, "static"), _event(crawl, "hold")
    assert not hold["ok"] and hold["error"] == "BrowserTimeout"
    assert "wait_until condition not met within 2s" in hold["message"]
    assert static["t"] < hold["t"] - 1.0


# -- (5) robots.txt --------------------------------------------------------------

def test_robots_disallowed_pages_are_not_fetched(crawl, site):
    tags = [f"robots{i}" for i in range(1, ROBOTS_BROWSER_REQUESTS + 1)] + ["robots-plain"]
    for tag in tags:
        ev = _event(crawl, tag)
        assert not ev["ok"] and ev["error"] == "IgnoreRequest", ev
        assert "robots.txt" in ev["message"]
    paths = [p for p, _ in site.hits]
    assert "/robots.txt" in paths
    assert not any(p.startswith("/private/") for p in paths)
    assert crawl["stats"]["robotstxt/forbidden"] == len(tags)


# -- (6) timeouts become failures, and the browser recovers ---------------------

def test_page_load_timeout_is_a_failure_not_a_hang(crawl):
    ev = _event(crawl, "slow")
    assert not ev["ok"]
    assert ev["error"] == "BrowserTimeout" and ev["is_browser_error"] and ev["is_ignore_request"]
    assert "page load timed out after 1.5s" in ev["message"]
    rec = _event(crawl, "recovered")
    assert rec["ok"] and rec["names"] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    stats = crawl["stats"]
    assert stats["browser/errors/timeout"] == 2
    assert stats["browser/starts"] == 1  # one browser, reused


def test_http_status_and_network_errors_are_failure_reasons(crawl):
    ev = _event(crawl, "404")  # rendered 404 -> HttpErrorMiddleware, like a plain 404
    assert not ev["ok"] and ev["error"] == "HttpError"
    ev = _event(crawl, "refused")
    assert not ev["ok"] and ev["error"] == "BrowserError" and ev["is_ignore_request"]
    assert "ERR_CONNECTION_REFUSED" in ev["message"]
    assert crawl["stats"]["browser/errors/webdriver"] == 1


# -- (7) no browser process survives the crawl -------------------------------------

def test_browser_is_gone_after_crawl(crawl):
    assert crawl["browser"], "browser info not captured"
    assert crawl["leftover_pids"] == []
    assert crawl["driver_alive"] is False
    assert crawl["profile_exists"] is False
    assert not any(
        True for pid in os.listdir("/proc") if pid.isdigit()
        and crawl["browser"]["profile"].encode() in _cmdline(pid)
    )


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def test_stats_and_time_per_page(crawl):
    stats = crawl["stats"]
    pages = stats["browser/pages"]
    assert pages == 7  # inline, fetch, script, shot, late, recovered, 404
    per_page = float(stats["browser/seconds"]) / pages
    latencies = {e["tag"]: round(e["latency"], 2) for e in crawl["events"] if e.get("rendered")}
    print(f"\nbrowser: {pages} pages, {per_page:.2f} s/page rendering {latencies}; "
          f"browser start {float(stats['browser/start_seconds']):.2f} s; "
          f"crawl {crawl['crawl_seconds']:.1f} s")
    assert per_page < 5
    assert all(e["latency"] == e["latency"] for e in crawl["events"] if e.get("rendered"))


# -- missing browser -----------------------------------------------------------------

def test_missing_binary_is_a_clear_failure(site, tmp_path):
    result = _run_crawl(site, tmp_path, "missing")
    for tag in ("inline", "fetch"):
        ev = _event(result, tag)
        assert not ev["ok"] and ev["error"] == "BrowserUnavailable"
        assert "Chromium binary not found: '/nonexistent/chromium'" in ev["message"]
    assert _event(result, "static")["ok"]
    assert result["stats"]["browser/errors/unavailable"] == 2
    assert "browser/starts" not in result["stats"]
