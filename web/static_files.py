"""Static files served from memory after their first request.

Starlette's ``StaticFiles`` stats, opens, reads and closes the file in worker threads on
every request: four thread hand-offs for a 13 kB stylesheet, most of the web's CPU for a
static file (docs/performance.md, the intake section). The files under ``web/static`` are
the package's own and do not change while the app runs (like the templates, compiled
once), so each is read once per process and answered from memory with the same headers
(``ETag``, ``Last-Modified``, 304 on a matching ``If-None-Match``/``If-Modified-Since``).
Anything else — a file over the size bound, a ``Range`` request, a method other than GET
or HEAD, a missing file — goes through ``StaticFiles`` as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import anyio
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

MAX_CACHED_FILE_BYTES = 512 * 1024


@dataclass(frozen=True)
class CachedFile:
    body: bytes
    headers: dict[str, str]  # FileResponse's: content-type, etag, last-modified, ...


class CachedStaticFiles(StaticFiles):
    def __init__(
        self, *, directory: str | PathLike[str], max_file_bytes: int = MAX_CACHED_FILE_BYTES
    ) -> None:
        super().__init__(directory=directory)
        self.max_file_bytes = max_file_bytes
        self.files: dict[str, CachedFile] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        request_headers = Headers(scope=scope)
        if scope["method"] not in ("GET", "HEAD") or "range" in request_headers:
            return await super().get_response(path, scope)
        cached = self.files.get(path)
        if cached is None:
            response = await super().get_response(path, scope)
            if not self._cacheable(response):
                return response
            assert isinstance(response, FileResponse)
            cached = await anyio.to_thread.run_sync(_read, response)
            self.files[path] = cached
        if self.is_not_modified(Headers(cached.headers), request_headers):
            return NotModifiedResponse(Headers(cached.headers))
        return Response(cached.body, headers=cached.headers)

    def _cacheable(self, response: Response) -> bool:
        stat = getattr(response, "stat_result", None)
        return (
            isinstance(response, FileResponse)
            and response.status_code == 200
            and stat is not None
            and stat.st_size <= self.max_file_bytes
        )


def _read(response: FileResponse) -> CachedFile:
    body = Path(response.path).read_bytes()
    headers = dict(response.headers)
    headers["content-length"] = str(len(body))
    return CachedFile(body, headers)
