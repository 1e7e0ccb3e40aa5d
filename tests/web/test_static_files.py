"""web.static_files: small static files answered from memory with StaticFiles' headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from web.static_files import CachedStaticFiles


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "site.css").write_text("body { color: #123; }\n", encoding="utf-8")
    (tmp_path / "big.js").write_bytes(b"x" * 2_000)
    return tmp_path


def served(app: StaticFiles) -> TestClient:
    return TestClient(Starlette(routes=[Mount("/static", app=app)]))


def test_answers_like_static_files_and_from_memory_after_the_first_request(
    folder: Path,
) -> None:
    cached = CachedStaticFiles(directory=folder, max_file_bytes=1_000)
    plain, client = served(StaticFiles(directory=folder)), served(cached)
    expected = plain.get("/static/site.css")
    first = client.get("/static/site.css")
    (folder / "site.css").unlink()  # from memory now: the file is not read again
    second = client.get("/static/site.css")
    for answer in (first, second):
        assert answer.status_code == 200
        assert answer.content == expected.content
        for name in ("content-type", "content-length", "etag", "last-modified"):
            assert answer.headers[name] == expected.headers[name]
    assert list(cached.files) == ["site.css"]


def test_conditional_requests_get_304(folder: Path) -> None:
    client = served(CachedStaticFiles(directory=folder))
    etag = client.get("/static/site.css").headers["etag"]
    again = client.get("/static/site.css", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/static/site.css", headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200


def test_head_has_the_headers_and_no_body(folder: Path) -> None:
    client = served(CachedStaticFiles(directory=folder))
    client.get("/static/site.css")
    head = client.head("/static/site.css")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len("body { color: #123; }\n"))


def test_large_files_ranges_missing_files_and_other_methods_go_through_static_files(
    folder: Path,
) -> None:
    cached = CachedStaticFiles(directory=folder, max_file_bytes=1_000)
    client = served(cached)
    assert client.get("/static/big.js").content == b"x" * 2_000
    ranged = client.get("/static/site.css", headers={"range": "bytes=0-3"})
    assert (ranged.status_code, ranged.content) == (206, b"body")
    assert client.get("/static/missing.css").status_code == 404
    assert client.get("/static/../secret").status_code == 404
    assert client.post("/static/site.css").status_code == 405
    assert cached.files == {}  # none of these is kept


def test_the_app_serves_its_static_files_from_memory(client: TestClient) -> None:
    first = client.get("/static/site.css")
    second = client.get("/static/site.css", headers={"if-none-match": first.headers["etag"]})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/css")
    assert first.headers["x-content-type-options"] == "nosniff"  # the page headers still apply
    assert second.status_code == 304
