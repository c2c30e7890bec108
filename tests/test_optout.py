from scrapy.http import Headers

from spiders.optout import header_opt_out, html_opt_out


def test_x_robots_tag_noai_and_noimageai():
    assert header_opt_out(Headers({"X-Robots-Tag": "noai, noimageai"}))
    assert header_opt_out(Headers({"X-Robots-Tag": ["noindex", "NoImageAI"]}))
    assert header_opt_out(Headers({"X-Robots-Tag": "academic-faces: noai"}))
    assert not header_opt_out(Headers({"X-Robots-Tag": "noindex, nofollow"}))
    assert not header_opt_out(Headers({}))


def test_meta_robots_in_html():
    assert html_opt_out(b'<html><head><meta name="robots" content="noai, noimageai"></head>')
    assert html_opt_out(b"<meta content='noimageai' name='robots'>")
    assert not html_opt_out(b'<meta name="robots" content="index, follow"><p>noai</p>')
    assert not html_opt_out(b'<meta name="description" content="noai">')
