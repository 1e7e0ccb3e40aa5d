"""bench.http_client against a real uvicorn server on a free local port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qsl

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.http_client import HttpClient, HttpError

Serve = Callable[..., Awaitable[str]]  # (timeout_keep_alive=...) -> base URL


async def echo(request: Request) -> Response:
    """The form back, with the client's port: which connection carried the request."""
    form = dict(parse_qsl((await request.body()).decode()))
    port = request.client.port if request.client else 0
    return PlainTextResponse(
        f"{request.method} {form.get('name', '')}",
        headers={"x-port": str(port), "x-type": request.headers.get("content-type", "")},
    )


async def chunked(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"m\xe1\xbb\x99t ", b"hai ", b"ba"):
            yield part

    return StreamingResponse(parts(), media_type="text/plain")


async def closing(request: Request) -> Response:
    return PlainTextResponse("bye", headers={"connection": "close"})


async def slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return PlainTextResponse("late")


async def missing(request: Request) -> Response:
    return PlainTextResponse("not here", status_code=404)


APP = Starlette(
    routes=[
        Route("/echo", echo, methods=["GET", "POST"]),
        Route("/chunked", chunked),
        Route("/closing", closing),
        Route("/slow", slow),
        Route("/missing", missing),
    ]
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a uvicorn server on a free port; its base URL."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(timeout_keep_alive: int | float = 5) -> str:
        port = free_port()
        config = uvicorn.Config(
            APP,
            host="127.0.0.1",
            port=port,
            log_level="error",
            lifespan="off",
            timeout_keep_alive=timeout_keep_alive,  # type: ignore[arg-type]  # a float works
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        while not server.started:
            await asyncio.sleep(0.01)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, task in servers:
        server.should_exit = True
        await task


async def test_keeps_one_connection_alive_across_requests(serve: Serve) -> None:
    async with HttpClient(await serve(), connections=1) as client:
        answers = [await client.post_form("/echo", {"name": f"Lê Văn {i}"}) for i in range(5)]
        assert [a.text for a in answers] == [f"POST Lê Văn {i}" for i in range(5)]
        assert {a.status for a in answers} == {200}
        assert {a.headers["x-type"] for a in answers} == {"application/x-www-form-urlencoded"}
        assert len({a.headers["x-port"] for a in answers}) == 1
        assert client.connections[0].opened == 1
        assert client.requests == 5


async def test_never_more_requests_in_flight_than_connections(serve: Serve) -> None:
    async with HttpClient(await serve(), connections=3) as client:
        answers = await asyncio.gather(*(client.get("/echo") for _ in range(30)))
        assert {a.status for a in answers} == {200}
        assert len({a.headers["x-port"] for a in answers}) == 3
        assert sum(c.opened for c in client.connections) == 3


async def test_reads_chunked_bodies_and_error_statuses(serve: Serve) -> None:
    async with HttpClient(await serve(), connections=1) as client:
        streamed = await client.get("/chunked")
        assert streamed.headers["transfer-encoding"] == "chunked"
        assert streamed.text == "một hai ba"
        missing = await client.get("/missing")
        assert (missing.status, missing.text) == (404, "not here")
        assert (await client.get("/echo")).text == "GET "  # the same connection still in step
        assert client.connections[0].opened == 1


async def test_opens_again_after_the_server_closes(serve: Serve) -> None:
    async with HttpClient(await serve(), connections=1) as client:
        assert (await client.get("/closing")).text == "bye"
        assert (await client.get("/echo")).status == 200
        assert client.connections[0].opened == 2


async def test_sends_again_on_a_connection_closed_while_idle(serve: Serve) -> None:
    async with HttpClient(await serve(timeout_keep_alive=0.2), connections=1) as client:
        first = await client.get("/echo")
        await asyncio.sleep(0.6)  # uvicorn closes the idle connection meanwhile
        second = await client.post_form("/echo", {"name": "again"})
        assert second.text == "POST again"
        assert first.headers["x-port"] != second.headers["x-port"]
        assert client.connections[0].opened == 2


async def test_a_slow_answer_times_out_and_the_connection_is_not_reused(serve: Serve) -> None:
    async with HttpClient(await serve(), connections=1, timeout_s=0.3) as client:
        with pytest.raises(HttpError, match="no answer within"):
            await client.get("/slow")
        after = await client.get("/echo")  # not the late answer of /slow
        assert after.text == "GET "
        assert client.connections[0].opened == 2


async def test_a_refused_connection_is_an_http_error() -> None:
    async with HttpClient(f"http://127.0.0.1:{free_port()}", connections=1) as client:
        with pytest.raises(HttpError, match="cannot connect"):
            await client.get("/")
