"""Languages, translations, headers and error pages."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import web
from web.i18n import LOCALES_DIR

WEB_DIR = Path(web.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_msgids() -> set[str]:
    """Every msgid in the templates (``_()``) and in Python (``_()`` and ``N_()`` markers)."""
    found = extract_from_dir(
        str(WEB_DIR),
        method_map=[("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        options_map={
            "templates/**.html": {
                "extensions": "jinja2.ext.i18n",
                "trim_blocks": "true",
                "lstrip_blocks": "true",
            }
        },
        keywords={"_": None, "N_": None},
    )
    messages: set[str] = set()
    for _file, _line, message, _comments, _context in found:
        assert isinstance(message, str), "plural forms are not used"
        messages.add(message)
    return messages


def test_every_msgid_has_an_english_translation() -> None:
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    used = used_msgids()
    assert len(used) > 50  # the extraction really saw the templates
    missing = sorted(
        m for m in used if m not in catalog or not catalog[m].string or catalog[m].fuzzy
    )
    assert missing == []
    for message in used:
        english = catalog[message].string
        assert PLACEHOLDER.findall(message) == PLACEHOLDER.findall(str(english)), message


def test_vietnamese_by_default(client: TestClient) -> None:
    page = client.get("/")
    assert '<html lang="vi">' in page.text
    assert ">English</a>" in page.text
    assert "Tra cứu phản ánh đã gửi" in page.text


def test_lang_en_switches_and_sticks_until_lang_vi(client: TestClient, token: str) -> None:
    page = client.get("/?lang=en")
    assert '<html lang="en">' in page.text
    assert "Track a submission" in page.text
    assert ">Tiếng Việt</a>" in page.text
    assert client.cookies.get("lang") == "en"
    qr = client.get(f"/q/{token}")
    assert "Very satisfied" in qr.text and "Counter 1 – Justice and civil status" in qr.text
    back = client.get(f"/q/{token}?lang=vi")
    assert '<html lang="vi">' in back.text and "Rất hài lòng" in back.text
    assert client.get("/").text.count('<html lang="vi">') == 1


def test_switch_link_keeps_the_query(client: TestClient) -> None:
    page = client.get("/t/0000000000?new=1")
    assert 'href="/t/0000000000?new=1&amp;lang=en"' in page.text


def test_security_headers(client: TestClient, token: str) -> None:
    for path in ("/", f"/q/{token}", "/no-such-page", "/static/site.css"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]


def test_pages_use_no_inline_script_or_external_resource(client: TestClient, token: str) -> None:
    html = client.get(f"/q/{token}").text
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/submit-once.js" defer>']
    assert "http://" not in html and "https://" not in html
    assert 'name="viewport"' in html


def test_unknown_route_is_an_html_404_in_vietnamese(client: TestClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy trang" in page.text
    english = client.get("/no-such-page?lang=en")
    assert "Page not found" in english.text


def test_wrong_method_is_an_html_page(client: TestClient) -> None:
    page = client.put("/")
    assert page.status_code == 405
    assert page.headers["content-type"].startswith("text/html")


def test_static_files_exist(client: TestClient) -> None:
    assert client.get("/static/site.css").status_code == 200
    assert client.get("/static/submit-once.js").status_code == 200
