"""Photos citizens attach to the QR form: checked (size, type by magic bytes), stored in
PostgreSQL (``media.photos``) before the submission is published, and named in the intake
event by their SHA-256 (``IntakeSubmission.photo_id``)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from web.case_received import case_received

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from web.services import WebServices

MAX_PHOTO_BYTES = 5 * 1024 * 1024
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp")  # the file input's ``accept``


class PhotoRefused(ValueError):
    """A photo the limits refuse; ``status`` is the HTTP status of the page (413 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Photo:
    sha256: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The image type by its first bytes (never by the file name or the browser's word)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_photo(data: bytes) -> Photo:
    """The photo of an upload, or PhotoRefused (413 too large, 415 not JPEG/PNG/WebP)."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused(413, f"photo of {len(data)} bytes; at most {MAX_PHOTO_BYTES}")
    content_type = sniff(data)
    if content_type is None:
        raise PhotoRefused(415, "not a JPEG, PNG or WebP image")
    return Photo(hashlib.sha256(data).hexdigest(), content_type, data)


class PhotoStore(Protocol):
    def put(self, photo: Photo) -> None: ...

    def get(self, sha256: str) -> Photo | None: ...

    def delete(self, sha256: str) -> bool: ...


def delete_photo(conn: psycopg.Connection[Any], sha256: str) -> bool:
    """Delete a photo for good (an erasure, docs/privacy.md); False when it was not there
    (never sent, already deleted, or no photo was ever stored). The caller commits. The
    store keeps one row per content, so a byte-identical photo of another case goes too."""
    if conn.execute("SELECT to_regclass('media.photos')").fetchone() in (None, (None,)):
        return False
    return conn.execute("DELETE FROM media.photos WHERE sha256 = %s", (sha256,)).rowcount > 0


class PostgresPhotoStore:
    """``media.photos`` (created if missing); the same photo sent twice is stored once."""

    CREATE = (
        "CREATE SCHEMA IF NOT EXISTS media",
        "CREATE TABLE IF NOT EXISTS media.photos ("
        " sha256 text PRIMARY KEY, content_type text NOT NULL, bytes bytea NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())",
    )

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        self._ready = False
        self._lock = threading.Lock()

    def _ensure_table(self) -> None:
        if self._ready:
            return
        with self._lock, self.pool.connection() as conn:
            for statement in self.CREATE:
                conn.execute(statement)  # type: ignore[arg-type]
            self._ready = True

    def put(self, photo: Photo) -> None:
        self._ensure_table()
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO media.photos (sha256, content_type, bytes, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING",
                (photo.sha256, photo.content_type, photo.data, datetime.now(UTC)),
            )

    def get(self, sha256: str) -> Photo | None:
        self._ensure_table()
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT content_type, bytes FROM media.photos WHERE sha256 = %s", (sha256,)
            ).fetchone()
        if row is None:
            return None
        return Photo(sha256, str(row[0]), bytes(row[1]))

    def delete(self, sha256: str) -> bool:
        with self.pool.connection() as conn:
            return delete_photo(conn, sha256)


class MemoryPhotoStore:
    """In memory, for tests and a demo without PostgreSQL."""

    def __init__(self) -> None:
        self.photos: dict[str, Photo] = {}

    def put(self, photo: Photo) -> None:
        self.photos.setdefault(photo.sha256, photo)

    def get(self, sha256: str) -> Photo | None:
        return self.photos.get(sha256)

    def delete(self, sha256: str) -> bool:
        return self.photos.pop(sha256, None) is not None


def case_photo_id(services: WebServices, case_id: UUID) -> str:
    """The photo sent with a case, read from its first event in the event store (the views
    hold no photo); "" when there is none or no store to read."""
    received = case_received(services, case_id, "photo")
    return received.photo_id if received is not None else ""
