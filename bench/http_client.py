"""A lean keep-alive HTTP/1.1 client for the load generators, over asyncio streams.

httpx/httpcore cost the load generator more CPU per request than the web app spends
answering it (≈ 100 requests/s from 64 connections on this machine, against ≈ 640/s for a
bare client), so the benchmarks measured their own client. This one does only what the
benchmarks need: a fixed set of keep-alive connections to one server, ``Content-Length``
request bodies, and answers read whole (status, headers, body by ``Content-Length``,
chunked, or up to the close).

A request waits for an idle connection (never more requests on the wire than
connections). A connection the server closed while idle (its keep-alive timeout) is
opened again, and the request sent once more, only when not a byte of the answer had
arrived; any other failure raises :class:`HttpError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlencode, urlsplit

Headers = Iterable[tuple[str, str]]


class HttpError(Exception):
    """No complete answer: refused, reset, timed out or malformed."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _StaleConnection(Exception):
    """The server had closed the kept-alive connection before our request reached it."""


class Connection:
    """One HTTP/1.1 connection, kept alive between requests, one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.host_header = f"{host}:{port}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0  # how many times a socket was opened (tests read it)

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: Headers = ()
    ) -> Answer:
        head = self._head(method, target, body, headers)
        reused = self.reader is not None and not self.reader.at_eof()
        if not reused:
            await self._open()
        try:
            return await self._exchange(head, body, method)
        except _StaleConnection:
            if not reused:
                raise HttpError("the server closed the connection without answering") from None
        await self._open()  # the keep-alive connection had been closed: once more, fresh
        try:
            return await self._exchange(head, body, method)
        except _StaleConnection:
            raise HttpError("the server closed the connection without answering") from None

    def _head(self, method: str, target: str, body: bytes, headers: Headers) -> bytes:
        lines = [f"{method} {target} HTTP/1.1", f"host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"content-length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _open(self) -> None:
        self.close()
        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError(f"cannot connect to {self.host_header}: {exc}") from exc
        self.opened += 1

    async def _exchange(self, head: bytes, body: bytes, method: str) -> Answer:
        reader, writer = self.reader, self.writer
        assert reader is not None and writer is not None
        try:
            writer.write(head + body)
            await writer.drain()
            try:
                raw_head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    self.close()
                    raise _StaleConnection from exc
                raise
        except (ConnectionError, BrokenPipeError) as exc:
            self.close()
            raise _StaleConnection from exc
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
            self.close()
            raise HttpError(f"no complete answer: {exc!r}") from exc
        try:
            status, headers = _parse_head(raw_head)
            answer = Answer(status, headers, await self._body(reader, method, status, headers))
        except (ValueError, asyncio.IncompleteReadError, OSError) as exc:
            self.close()
            raise HttpError(f"a malformed or cut answer: {exc!r}") from exc
        if headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    @staticmethod
    async def _body(
        reader: asyncio.StreamReader, method: str, status: int, headers: dict[str, str]
    ) -> bytes:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        return await reader.read()  # delimited by the close

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    version, status, *_ = lines[0].split(" ", 2)
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status), headers


class HttpClient:
    """``connections`` keep-alive connections to ``base_url``; each request takes an idle
    one (waiting for it), so requests queue here, in plain sight, not on the server."""

    def __init__(self, base_url: str, connections: int, timeout_s: float = 30.0) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"an http:// URL is needed, not {base_url!r}")
        self.timeout_s = timeout_s
        self.connections = [Connection(url.hostname, url.port or 80) for _ in range(connections)]
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()
        for connection in self.connections:
            self.idle.put_nowait(connection)
        self.requests = 0

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: Headers = ()
    ) -> Answer:
        connection = await self.idle.get()
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await connection.request(method, target, body, headers)
        except TimeoutError as exc:
            connection.close()  # its answer may still come: never read it as the next one's
            raise HttpError(f"no answer within {self.timeout_s} s") from exc
        finally:
            self.idle.put_nowait(connection)
        self.requests += 1
        return answer

    async def get(self, target: str) -> Answer:
        return await self.request("GET", target)

    async def post_form(self, target: str, fields: Mapping[str, str]) -> Answer:
        """An ``application/x-www-form-urlencoded`` POST, as a browser sends a plain form."""
        body = urlencode(fields).encode("ascii")
        return await self.request(
            "POST", target, body, [("content-type", "application/x-www-form-urlencoded")]
        )

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
