"""Open a local HTML file in real headless Chromium and report what its images did."""
from __future__ import annotations

from pathlib import Path

IMAGE_STATE_JS = """
return Array.from(document.images).map(img => ({id: img.id, complete: img.complete, width: img.naturalWidth}));
"""
FETCHED_JS = "return performance.getEntriesByType('resource').map(r => r.name);"


def chromium():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options,
                            service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))


def render_page(page: Path, screenshot: Path) -> tuple[dict[str, dict], list[str]]:
    """({img id: {complete, width}}, URLs the page fetched); saves a screenshot."""
    driver = chromium()
    try:
        driver.get(Path(page).absolute().as_uri())
        states = {s["id"]: s for s in driver.execute_script(IMAGE_STATE_JS)}
        fetched = driver.execute_script(FETCHED_JS)
        assert driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    return states, fetched
