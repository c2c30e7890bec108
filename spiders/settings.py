"""Scrapy settings of the project: politeness first; values come from `infra.settings`.

`scrapy crawl <slug>` from the repository root uses this module (scrapy.cfg). The
`ACADEMIC_FACES_*` environment (or config file) switches behaviour; see infra/settings.py.
"""
from infra.settings import load_settings

_project = load_settings()

BOT_NAME = "academic-faces"
SPIDER_MODULES = ["spiders.staff", "spiders.custom"]
NEWSPIDER_MODULE = "spiders.custom"

# Identify ourselves and obey robots.txt, always.
USER_AGENT = _project.user_agent
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "academic-faces"

# Polite by default: a delay, few parallel requests per site, AutoThrottle adapting to the server.
DOWNLOAD_DELAY = _project.download_delay
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = _project.concurrency_per_domain
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = max(_project.download_delay, 0.0)
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = _project.autothrottle_target
DOWNLOAD_TIMEOUT = _project.download_timeout
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5  # redirect loops end quickly with reason redirect_loop
DOWNLOAD_MAXSIZE = max(_project.max_page_bytes, _project.max_image_bytes)
DOWNLOAD_WARNSIZE = 0
COOKIES_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's own lets some requests through while robots.txt downloads (see the module).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.middlewares.robots.RobotsTxtMiddleware": 100,
    # After RobotsTxtMiddleware (100): pages rendered in the browser obey robots.txt too.
    "spiders.middlewares.browser.BrowserMiddleware": 800,
}
ITEM_PIPELINES = {
    "spiders.pipelines.validate.ImageValidationPipeline": 100,
    "spiders.pipelines.store.ObjectStorePipeline": 300,
}
EXTENSIONS = {"scrapy.extensions.telnet.TelnetConsole": None}

# Browser for JavaScript pages (Debian chromium + chromium-driver).
BROWSER_BINARY = "/usr/bin/chromium"
BROWSER_DRIVER = "/usr/bin/chromedriver"

# Limits on what is stored (see infra/settings.py).
IMAGE_MAX_BYTES = _project.max_image_bytes
IMAGE_MAX_PIXELS = _project.max_image_pixels
IMAGE_MIN_SIDE = _project.min_image_side
PAGE_MAX_BYTES = _project.max_page_bytes
INDEX_CHECKPOINT_ITEMS = 200
DRY_RUN = False  # True: find people and report them, download and store no photo
REJECTED_RECHECK_DAYS = _project.recheck_rejected_days
DEPARTMENTS_FILE = str(_project.departments_file) if _project.departments_file else None

REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's remote-control extension: not wanted here
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
