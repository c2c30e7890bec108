"""Starting, quitting and killing Chromium (through ChromeDriver, Selenium 4)."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from typing import Any

from .request import BrowserUnavailable
from .scripts import _BLOCKED_URL_PATTERNS, _NETWORK_TRACKER_JS

logger = logging.getLogger(__package__)

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

_DEFAULT_BINARIES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
_DEFAULT_DRIVERS = ("/usr/bin/chromedriver", "chromedriver")


def _first_line(exc: BaseException) -> str:
    msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return str(msg).strip().splitlines()[0] if str(msg).strip() else type(exc).__name__


def _find_executable(configured: str | None, candidates: tuple[str, ...]) -> str | None:
    if configured:
        return configured  # an explicit setting is used as is (error names it)
    for name in candidates:
        if os.path.isabs(name):
            if _is_executable(name):
                return name
        else:
            found = shutil.which(name)
            if found:
                return found
    return None


def _is_executable(path: str | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


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


def _kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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

    def stop_loading(self) -> None:
        try:
            self.driver.execute_script("window.stop();")
        except Exception:
            self.quit_if_unresponsive()

    def quit_if_unresponsive(self) -> None:
        """After an error: if the browser no longer answers, quit it (``dead``),
        so the next request starts a fresh one."""
        try:
            self.driver.window_handles  # noqa: B018 - a cheap round trip
        except Exception as exc:
            logger.warning("Browser is not responding (%s); it will be restarted", _first_line(exc))
            self.quit()

    def kill(self, grace: float = 0.0) -> None:
        """Make sure no process we started survives, then remove the profile."""
        self.dead = True
        if self.driver_pid:
            # chromedriver was started in its own session/process group and
            # Chromium's processes inherit it.
            _killpg(self.driver_pid, signal.SIGKILL if not grace else signal.SIGTERM)
        # crashpad handlers leave the process group but carry the profile path.
        deadline = time.monotonic() + grace
        while grace and _pids_with_arg(self.profile_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        _kill_pids(_pids_with_arg(self.profile_dir))
        if self.driver_pid:
            _killpg(self.driver_pid, signal.SIGKILL)
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


def _start_browser(
    binary: str | None,
    driver_path: str | None,
    arguments: list[str],
    user_agent: str | None,
    page_load_timeout: float,
    command_timeout: float,
) -> _Browser:
    """Start and configure Chromium; any failure is a :class:`BrowserUnavailable`.

    A fresh temporary profile (removed by :meth:`_Browser.kill`) and
    ``--user-agent`` are added unless ``arguments`` already has them.
    """
    if not _is_executable(binary):
        raise BrowserUnavailable(
            f"Chromium binary not found: {binary or '/usr/bin/chromium'!r} "
            f"(install chromium or set BROWSER_BINARY)"
        )
    if not _is_executable(driver_path):
        raise BrowserUnavailable(
            f"ChromeDriver binary not found: {driver_path or '/usr/bin/chromedriver'!r} "
            f"(install chromium-driver or set BROWSER_DRIVER)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:  # pragma: no cover
        raise BrowserUnavailable(f"selenium is not installed: {exc}") from exc

    args = list(arguments)
    profile = next((a.split("=", 1)[1] for a in args if a.startswith("--user-data-dir=")), None)
    own_profile = profile is None
    if own_profile:
        profile = tempfile.mkdtemp(prefix="academic-faces-chromium-")
        args.append(f"--user-data-dir={profile}")
    if user_agent and not any(a.startswith("--user-agent=") for a in args):
        args.append(f"--user-agent={user_agent}")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    options.page_load_strategy = "normal"
    for arg in args:
        options.add_argument(arg)
    service = Service(
        executable_path=driver_path,
        log_output=subprocess.DEVNULL,
        popen_kw={"start_new_session": True},  # own process group, see _Browser.kill
    )
    t0 = time.monotonic()
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as exc:
        proc = getattr(service, "process", None)
        if proc is not None:
            _killpg(proc.pid, signal.SIGKILL)
        if own_profile:
            _kill_pids(_pids_with_arg(profile))
            shutil.rmtree(profile, ignore_errors=True)
        raise BrowserUnavailable(
            f"could not start Chromium {binary!r} via ChromeDriver "
            f"{driver_path!r}: {_first_line(exc)}"
        ) from exc
    browser = _Browser(driver, profile, own_profile)
    _live_browsers.add(browser)
    try:
        driver.set_page_load_timeout(page_load_timeout)
        driver.set_script_timeout(page_load_timeout)
        # bound every WebDriver HTTP call so a wedged driver cannot hang us
        try:
            driver.command_executor._client_config.timeout = command_timeout
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
        time.monotonic() - t0, binary,
        (driver.capabilities or {}).get("browserVersion", "?"), profile,
    )
    return browser
