"""The optional photo of the QR form: checked by size and by its bytes, stored before the
submission is published (``photo_id`` = its SHA-256), refused with the form kept as typed,
and shown to the staff who may see the case."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.intake import ComplaintCategory
from tests.web.web_doubles import RecordingPublisher, hidden, log_in, open_case
from web.app import create_app
from web.media import MAX_PHOTO_BYTES, MemoryPhotoStore, checked_photo, sniff
from web.services import WebServices


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG, made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
TYPED = {"rating": "2", "category": "delay", "description": "Chờ <b>3 giờ</b> mới đến lượt",
         "dossier_code": "HS-2026/01", "contact": "0912345678", "consent": "1"}


@pytest.fixture
def photos() -> MemoryPhotoStore:
    return MemoryPhotoStore()


@pytest.fixture
def photo_client(services: WebServices, photos: MemoryPhotoStore) -> Iterator[TestClient]:
    services.photos = photos
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


def send(client: TestClient, token: str, photo: tuple[str, bytes, str] | None, **fields: str):
    sid = hidden(client.get(f"/q/{token}").text, "submission_id")
    files = {"photo": photo} if photo else {"photo": ("", b"", "application/octet-stream")}
    return client.post(f"/q/{token}", data={"submission_id": sid, **fields}, files=files)


def test_the_form_offers_a_photo(photo_client: TestClient, token: str) -> None:
    page = photo_client.get(f"/q/{token}").text
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and 'accept="image/jpeg,image/png,image/webp"' in page
    assert 'capture="environment"' in page


def test_no_photo_field_without_a_photo_store(client: TestClient, token: str) -> None:
    assert 'type="file"' not in client.get(f"/q/{token}").text


def test_sniffing_by_magic_bytes() -> None:
    assert sniff(png()) == "image/png"
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(WEBP) == "image/webp"
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None
    assert sniff(b"GIF89a") is None and sniff(b"") is None
    assert checked_photo(png()).sha256 == hashlib.sha256(png()).hexdigest()


def test_a_valid_photo_is_stored_then_published_with_its_id(
    photo_client: TestClient, token: str, photos: MemoryPhotoStore,
    publisher: RecordingPublisher,
) -> None:
    image = png()
    answer = send(photo_client, token, ("anh.png", image, "image/png"), **TYPED)
    assert answer.status_code == 303, answer.text
    sha = hashlib.sha256(image).hexdigest()
    [published] = publisher.published
    assert published.photo_id == sha
    stored = photos.photos[sha]
    assert stored.content_type == "image/png" and stored.data == image


def test_without_a_photo_nothing_is_stored(
    photo_client: TestClient, token: str, photos: MemoryPhotoStore,
    publisher: RecordingPublisher,
) -> None:
    assert send(photo_client, token, None, rating="4").status_code == 303
    assert publisher.published[0].photo_id == "" and photos.photos == {}


def assert_kept_as_typed(html: str) -> None:
    assert "Chờ &lt;b&gt;3 giờ&lt;/b&gt; mới đến lượt" in html
    assert 'value="2" required checked' in html
    assert '<option value="delay" selected>' in html
    assert 'value="HS-2026/01"' in html and 'value="0912345678"' in html
    assert 'name="consent" value="1" checked' in html
    assert "vui lòng chọn lại ảnh" in html  # the photo itself must be chosen again


def test_a_photo_over_5_mb_is_413_and_keeps_what_was_typed(
    photo_client: TestClient, token: str, photos: MemoryPhotoStore,
    publisher: RecordingPublisher,
) -> None:
    big = png() + b"\x00" * MAX_PHOTO_BYTES
    answer = send(photo_client, token, ("anh.png", big, "image/png"), **TYPED)
    assert answer.status_code == 413
    assert "Ảnh quá lớn: tối đa 5 MB" in answer.text
    assert_kept_as_typed(answer.text)
    assert publisher.published == [] and photos.photos == {}


def test_a_file_that_is_not_an_image_is_415_whatever_its_name_says(
    photo_client: TestClient, token: str, photos: MemoryPhotoStore,
    publisher: RecordingPublisher,
) -> None:
    lying = b"%PDF-1.7\n" + b"\x00" * 100
    answer = send(photo_client, token, ("anh.jpg", lying, "image/jpeg"), **TYPED)
    assert answer.status_code == 415
    assert "Chỉ nhận ảnh JPEG, PNG hoặc WebP" in answer.text
    assert_kept_as_typed(answer.text)
    assert publisher.published == [] and photos.photos == {}


def test_refusals_in_english(photo_client: TestClient, token: str) -> None:
    sid = hidden(photo_client.get(f"/q/{token}?lang=en").text, "submission_id")
    answer = photo_client.post(
        f"/q/{token}?lang=en", data={"submission_id": sid, **TYPED},
        files={"photo": ("a.png", b"not an image", "image/png")},
    )
    assert answer.status_code == 415
    assert "choose the photo again" in answer.text


def test_another_problem_asks_for_the_photo_again(
    photo_client: TestClient, token: str, photos: MemoryPhotoStore,
    publisher: RecordingPublisher,
) -> None:
    answer = send(photo_client, token, ("anh.png", png(), "image/png"), description="Chờ lâu")
    assert answer.status_code == 422  # no rating: nothing stored, nothing published
    assert "Chờ lâu" in answer.text and "vui lòng chọn lại ảnh" in answer.text
    assert publisher.published == [] and photos.photos == {}


def test_a_store_failure_publishes_nothing(
    photo_client: TestClient, token: str, photos: MemoryPhotoStore,
    publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(photo: object) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(photos, "put", broken)
    answer = send(photo_client, token, ("anh.png", png(), "image/png"), **TYPED)
    assert answer.status_code == 503
    assert_kept_as_typed(answer.text)
    assert publisher.published == []


# --- the staff side ------------------------------------------------------------------------


@pytest.fixture
def staff_client(
    desk_services: WebServices, photos: MemoryPhotoStore
) -> Iterator[TestClient]:
    desk_services.photos = photos
    with TestClient(create_app(desk_services), follow_redirects=False) as test_client:
        yield test_client


def case_with_photo(store: CasesApplication, photos: MemoryPhotoStore, unit: str) -> str:
    photo = checked_photo(png())
    photos.put(photo)
    cid, _code = open_case(store, unit=unit, photo_id=photo.sha256,
                           category=ComplaintCategory.DELAY)
    return str(cid)


def test_the_handler_sees_the_photo_on_the_case_page(
    staff_client: TestClient, store: CasesApplication, photos: MemoryPhotoStore
) -> None:
    cid = case_with_photo(store, photos, "nhat-tan")
    log_in(staff_client, "canbo.nhattan")
    page = staff_client.get(f"/staff/cases/{cid}")
    assert f'src="/staff/cases/{cid}/photo"' in page.text
    answer = staff_client.get(f"/staff/cases/{cid}/photo")
    assert answer.status_code == 200
    assert answer.content == png()
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-disposition"] == "inline"
    assert "no-store" in answer.headers["cache-control"]


def test_a_case_without_a_photo_shows_none(
    staff_client: TestClient, store: CasesApplication
) -> None:
    cid, _code = open_case(store)
    log_in(staff_client, "canbo.nhattan")
    assert "/photo" not in staff_client.get(f"/staff/cases/{cid}").text
    assert staff_client.get(f"/staff/cases/{cid}/photo").status_code == 404


def test_the_photo_follows_the_case_access(
    staff_client: TestClient, store: CasesApplication, photos: MemoryPhotoStore
) -> None:
    cid = case_with_photo(store, photos, "quang-an")  # another ward's case
    assert staff_client.get(f"/staff/cases/{cid}/photo").status_code == 303  # sign in first
    log_in(staff_client, "canbo.nhattan")
    answer = staff_client.get(f"/staff/cases/{cid}/photo")
    assert answer.status_code == 404 and answer.content != png()  # as the case page: not yours
    staff_client.post("/logout")
    staff_client.cookies.clear()
    log_in(staff_client, "quantri.nhattan")  # an administrator may see no case at all
    answer = staff_client.get(f"/staff/cases/{cid}/photo")
    assert answer.status_code == 403 and answer.content != png()
    assert staff_client.get(f"/staff/media/{hashlib.sha256(png()).hexdigest()}").status_code == 404
