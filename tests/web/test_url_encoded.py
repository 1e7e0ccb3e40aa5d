"""web.url_encoded.form_of gives what request.form() gives, with the same 400s."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from web.url_encoded import MAX_FIELD_BYTES, MAX_FIELDS, form_of


async def ours(request: Request) -> JSONResponse:
    form = await form_of(request)
    return JSONResponse(
        [[k, v if isinstance(v, str) else f"file:{v.filename}"] for k, v in form.multi_items()]
    )


async def starlettes(request: Request) -> JSONResponse:
    form = await request.form()
    return JSONResponse(
        [[k, v if isinstance(v, str) else f"file:{v.filename}"] for k, v in form.multi_items()]
    )


@pytest.fixture
def client() -> TestClient:
    return TestClient(
        Starlette(
            routes=[
                Route("/ours", ours, methods=["POST"]),
                Route("/starlette", starlettes, methods=["POST"]),
            ]
        )
    )


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "body",
    [
        urlencode(
            {
                "description": "Chờ quá lâu ở quầy & không ai hướng dẫn (100%)!",
                "rating": "2",
                "category": "",
            }
        ),
        "a=1&a=2&b=&c",  # repeated names, a blank value, a name without "="
        "name=L%C3%AA+V%C4%83n+A&x=%E2%82%AB",
        "",
    ],
)
def test_the_same_pairs_as_starlettes_parser(client: TestClient, body: str) -> None:
    sent = {"content": body.encode(), "headers": {"content-type": FORM}}
    assert client.post("/ours", **sent).json() == client.post("/starlette", **sent).json()  # type: ignore[arg-type]


def test_content_type_parameters_are_ignored(client: TestClient) -> None:
    mixed_case = "Application/X-WWW-Form-URLencoded; charset=UTF-8"
    answer = client.post("/ours", content=b"rating=5", headers={"content-type": mixed_case})
    assert answer.json() == [["rating", "5"]]


def test_too_many_fields_or_a_field_too_large_is_a_400(client: TestClient) -> None:
    many = "&".join(f"f{i}=x" for i in range(MAX_FIELDS + 1))
    assert (
        client.post("/ours", content=many.encode(), headers={"content-type": FORM}).status_code
        == 400
    )
    huge = "description=" + "a" * MAX_FIELD_BYTES
    assert (
        client.post("/ours", content=huge.encode(), headers={"content-type": FORM}).status_code
        == 400
    )
    enough = "&".join(f"f{i}=x" for i in range(MAX_FIELDS))
    assert (
        len(client.post("/ours", content=enough.encode(), headers={"content-type": FORM}).json())
        == MAX_FIELDS
    )


def test_multipart_goes_through_starlette(client: TestClient) -> None:
    answer = client.post(
        "/ours", data={"rating": "4"}, files={"photo": ("anh.jpg", b"\xff\xd8\xff", "image/jpeg")}
    )
    assert answer.json() == [["rating", "4"], ["photo", "file:anh.jpg"]]
