"""How the page is delivered: weight, compression, caching, headers (no browser needed)."""
import gzip
import re
import urllib.request

from conftest import book


def get(system, path, **headers):
    request = urllib.request.Request(f"http://127.0.0.1:{system['api']}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_weight_budget_compression_and_long_lived_hashed_assets(system):
    _, headers, html = get(system, "/track/anyCode123", **{"Accept-Language": "en"})
    assert "content-encoding" not in {k.lower() for k in headers}
    script = re.search(rb'<script src="(/assets/tracking\.[0-9a-f]{12}\.js)"', html).group(1).decode()
    _, script_headers, javascript = get(system, script)
    total = len(html) + len(javascript)  # the stylesheet is inside the HTML
    assert total <= 40 * 1024, f"HTML+CSS+JS is {total} bytes"
    assert script_headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = script_headers["ETag"]
    request = urllib.request.Request(f"http://127.0.0.1:{system['api']}{script}", headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected 304")
    except urllib.error.HTTPError as not_modified:
        assert not_modified.code == 304
    _, zipped_headers, zipped = get(system, "/track/anyCode123", **{"Accept-Encoding": "gzip, br", "Accept-Language": "en"})
    assert zipped_headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped) == html
    assert len(zipped) < len(html) / 2
    assert "Accept-Encoding" in zipped_headers["Vary"]


def test_security_headers_and_no_inline_script(system):
    _, headers, html = get(system, "/track/anyCode123")
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+'", csp)
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Every script element loads a file, or is a JSON data block (not executed).
    for tag in re.findall(rb"<script[^>]*>", html):
        assert b" src=" in tag or b'type="application/json"' in tag, tag


def test_the_page_config_block_cannot_be_closed_by_a_string(system):
    _, _, html = get(system, "/track/anyCode123")
    block = re.search(rb'<script id="page-config" type="application/json">(.*?)</script>', html, re.S).group(1)
    assert b"<" not in block


def test_every_language_has_every_key():
    import json
    from local_processes import ROOT
    files = {path.stem: json.loads(path.read_text()) for path in (ROOT / "config/messages").glob("*.json")}
    assert {"en", "fr", "es"} <= set(files)
    for language, messages in files.items():
        assert set(messages) == set(files["en"]), f"{language}: missing {set(files['en']) - set(messages)}, extra {set(messages) - set(files['en'])}"
        assert all(isinstance(text, str) and text for text in messages.values()), language
        # Placeholders match the English ones.
        for key, text in messages.items():
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", files["en"][key])), (language, key)


def test_every_page_string_has_a_message():
    import json
    from local_processes import ROOT
    english = json.loads((ROOT / "config/messages/en.json").read_text())
    used = set(re.findall(r"\{\{t:([\w.]+)\}\}", (ROOT / "Sources/ReadAPI/Page/index.html").read_text()))
    used |= set(re.findall(r'\bt\("([\w.]+)"[,)]', (ROOT / "Sources/ReadAPI/Page/tracking.js").read_text()))
    # Every state the API can send has its badge and its note (BookingState's cases).
    states = re.findall(r"case (\w+(?:, \w+)*)$", (ROOT / "Sources/TrackingCore/BookingState.swift").read_text(), re.M)[0].split(", ")
    assert len(states) == 8
    used |= {f"status.{state}" for state in states} | {f"note.{state}" for state in states if state not in ("confirmed", "cancelled")}
    assert used - set(english) == set()
