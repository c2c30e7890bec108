"""JavaScript run in rendered pages, and URLs the browser must not load."""

from __future__ import annotations

#: ``Network.setBlockedURLs`` patterns: every image, with or without a query.
_BLOCKED_URL_PATTERNS: tuple[str, ...] = tuple(
    f"*.{ext}{tail}"
    for ext in ("png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico", "svg", "tif", "tiff")
    for tail in ("", "?*")
)

#: Injected into every document before its own scripts: counts fetch()/XHR in
#: flight so "settled" can mean network-idle-ish, not only DOM-quiet.
_NETWORK_TRACKER_JS = r"""
(() => {
  if (window.__afNet) return;
  const net = window.__afNet = {pending: 0};
  const done = () => { net.pending = Math.max(0, net.pending - 1); };
  const origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (...args) {
      net.pending++;
      let p;
      try { p = origFetch.apply(this, args); } catch (e) { done(); throw e; }
      p.then(done, done);
      return p;
    };
  }
  const X = window.XMLHttpRequest && window.XMLHttpRequest.prototype;
  if (X && X.send) {
    const send = X.send;
    X.send = function (...args) {
      net.pending++;
      this.addEventListener('loadend', done, {once: true});
      try { return send.apply(this, args); } catch (e) { done(); throw e; }
    };
  }
})();
"""

#: [readyState, fetch/XHR in flight, element count, body length, resources
#: loaded]; the page has settled once this stops changing with nothing in flight.
_FINGERPRINT_JS = r"""
const n = window.__afNet || {pending: 0};
const b = document.body;
return [document.readyState, n.pending,
        document.getElementsByTagName('*').length,
        b ? b.innerHTML.length : 0,
        performance.getEntriesByType('resource').length];
"""

#: HTTP status of the main document as the browser saw it (0 when unknown).
_STATUS_JS = r"""
try {
  const e = performance.getEntriesByType('navigation')[0];
  return e && e.responseStatus ? e.responseStatus : 0;
} catch (err) { return 0; }
"""
