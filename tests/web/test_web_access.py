"""Role × scope over every staff endpoint: who gets the page or the step (200 / 303), who is
refused (403), who is sent to sign in (303 to /login), and for whom the case does not exist
(404). The expectations are written out here, not derived from feedback_core.permissions.

Every account sits in the Nhật Tân ward; "own" is a case of Nhật Tân, "other ward" one of
Quảng An, "parent district" one of Tây Hồ, the district above the ward. For the steps on a
transfer, the scope is the unit the case is being transferred to. For the admin pages the
scope is the unit (or its counter, or its staff) a change is about; the organisation and the
calendar are the real applications in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from feedback_core.application import CasesApplication
from feedback_core.calendar_app import CalendarApplication
from feedback_core.cases import Case
from feedback_core.devices import DevicesApplication
from feedback_core.handling import Request
from feedback_core.org.rules import counter_aggregate_id, staff_aggregate_id, unit_aggregate_id
from feedback_core.permissions import Action
from feedback_core.privacy import InMemoryKeyStore, PersonalDataVault
from feedback_core.roles import Actor, Role
from feedback_core.settings import Settings
from tests.web.conftest import POPO, build_org_app, build_test_organisation, org_backed_services
from tests.web.web_doubles import (
    NOW,
    RecordingPublisher,
    StoreQueries,
    hidden,
    log_in,
    open_case,
)
from web.app import create_app

ACCOUNTS = {
    "operator": "tongdai.nhattan",
    "handler": "canbo.nhattan",
    "head": "lanhdao.nhattan",
    "inspector": "thanhtra.nhattan",
    "admin": "quantri.nhattan",
    "anonymous": None,
}
SCOPES = {"own": "nhat-tan", "other ward": "quang-an", "parent district": "tay-ho"}
# What each role may do to a case in its scope (the role table of the case-handling issue).
MAY: dict[str, set[Action]] = {
    "operator": {Action.WITHDRAW, Action.REOPEN},
    "handler": set(Action) - {Action.VIEW, Action.EXTEND},
    "head": set(Action) - {Action.VIEW, Action.ESCALATE},
    "inspector": set(),
}
SEES_CASES = {"operator", "handler", "head", "inspector"}
STEPS = [a for a in Action if a is not Action.VIEW]
RECEIVER = {Action.ACCEPT_TRANSFER, Action.RETURN_TRANSFER}
SETUP = Actor("lanhdao.tayho", Role.HEAD, "tay-ho")  # prepares cases anywhere in the district

FORMS: dict[Action, dict[str, str]] = {
    Action.REFUSE: {"reason": "Không thuộc thẩm quyền"},
    Action.ASSIGN: {"assignee": "canbo.nhattan"},
    Action.ASK_CITIZEN: {"text": "Số biên nhận?"},
    Action.RECORD_REPLY: {"text": "HS-001"},
    Action.ANSWER: {"text": "Đã xử lý."},
    Action.NOTE: {"text": "Ghi chú"},
    Action.TRANSFER: {"to_unit": "phu-thuong", "reason": "Sai địa bàn"},
    Action.RETURN_TRANSFER: {"reason": "Không thuộc địa bàn"},
    Action.ESCALATE: {"reason": "Cần ý kiến lãnh đạo"},
    Action.WITHDRAW: {"reason": "Công dân gọi điện rút"},
    Action.REOPEN: {"reason": "Công dân chưa hài lòng"},
    Action.EXTEND: {"days": "5", "reason": "Cần xác minh"},
    Action.MERGE: {"reason": "Trùng"},
}
# The steps that bring a new case where ``action`` can be taken (``assignee`` = the actor).
BEFORE: dict[Action, list[Action]] = {
    Action.ASSIGN: [Action.ACCEPT],
    Action.CLAIM: [Action.ACCEPT],
    Action.START: [Action.ACCEPT, Action.ASSIGN],
    Action.ASK_CITIZEN: [Action.ACCEPT, Action.ASSIGN],
    Action.ANSWER: [Action.ACCEPT, Action.ASSIGN],
    Action.RECORD_REPLY: [Action.ACCEPT, Action.ASSIGN, Action.ASK_CITIZEN],
    Action.RESOLVE: [Action.ACCEPT, Action.ASSIGN, Action.ANSWER],
    Action.REOPEN: [Action.ACCEPT, Action.ASSIGN, Action.ANSWER],
    Action.CLOSE: [Action.ACCEPT, Action.ASSIGN, Action.ANSWER, Action.RESOLVE],
}


class World:
    def __init__(self) -> None:
        self.org_app = build_org_app()
        self.calendar_app = CalendarApplication(env=POPO)
        self.store = CasesApplication(env=POPO)
        self.services = org_backed_services(
            Settings(secret_key="matrix-secret"), self.org_app, self.calendar_app, self.store,
            StoreQueries(self.store), pass_cases=lambda on: {},
        )
        assert self.services.desk is not None
        self.desk = self.services.desk
        self.app = create_app(self.services)
        self.clients: dict[str, TestClient] = {}

    def client(self, role: str) -> TestClient:
        """One signed-in client per role for the whole module (argon2 is slow on purpose)."""
        if role not in self.clients:
            client = TestClient(self.app, follow_redirects=False)
            username = ACCOUNTS[role]
            if username:
                assert log_in(client, username).status_code == 303
            self.clients[role] = client
        return self.clients[role]

    def case(self, case_id: UUID) -> Case:
        case: Case = self.store.repository.get(case_id)
        return case

    def step(self, case_id: UUID, action: Action, **fields: Any) -> None:
        version = self.case(case_id).version
        self.desk.act(case_id, version, SETUP, Request(action, **fields), NOW)

    def prepare(self, action: Action, unit: str, username: str) -> tuple[UUID, dict[str, str]]:
        """A case of ``unit`` ready for ``action`` by ``username``; the form to post."""
        form = dict(FORMS.get(action, {}))
        if action in RECEIVER:
            # own: into the actor's unit; other ward: from the actor's unit into Quảng An;
            # parent: from Quảng An into the district.
            origin, target = {
                "nhat-tan": ("quang-an", "nhat-tan"),
                "quang-an": ("nhat-tan", "quang-an"),
                "tay-ho": ("quang-an", "tay-ho"),
            }[unit]
            case_id, _ = open_case(self.store, unit=origin)
            self.step(case_id, Action.TRANSFER, to_unit=target, reason="Chuyển")
            return case_id, form
        case_id, _ = open_case(self.store, unit=unit)
        for before in BEFORE.get(action, []):
            extra: dict[str, Any] = {}
            if before is Action.ASSIGN:
                extra["assignee"] = username
            if before in (Action.ASK_CITIZEN, Action.ANSWER):
                extra["text"] = "…"
            self.step(case_id, before, **extra)
        if action is Action.MERGE:
            primary, code = open_case(self.store, unit=unit, days_ago=9)
            form["primary"] = code
        return case_id, form


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    built = World()
    yield built
    for client in built.clients.values():
        client.close()


def expected_for_page(role: str) -> int:
    if ACCOUNTS[role] is None:
        return 303
    return 200 if role in SEES_CASES else 403


def expected_for_step(role: str, scope: str, action: Action) -> int:
    if ACCOUNTS[role] is None:
        return 303  # to the login page
    if role not in SEES_CASES:
        return 403
    may = action in MAY[role]
    if action in RECEIVER:
        if scope == "own":  # another unit's case on its way in: for those who may take it
            return 303 if may else 404
        if scope == "other ward":  # our own case, on its way out: not ours to accept
            return 403
        return 404
    if scope != "own":
        return 404  # out of scope: the case does not exist for this account
    return 303 if may else 403


@pytest.mark.parametrize("path", ["/staff/queue", "/staff/my", "/staff/transfers"])
@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_list_pages(world: World, role: str, scope: str, path: str) -> None:
    case_id, code = open_case(world.store, unit=SCOPES[scope])
    if path == "/staff/my":
        world.step(case_id, Action.ACCEPT)
        world.step(case_id, Action.ASSIGN, assignee=ACCOUNTS[role] or "canbo.nhattan")
    if path == "/staff/transfers":
        origin = "phu-thuong"
        case_id, code = open_case(world.store, unit=origin)
        world.step(case_id, Action.TRANSFER, to_unit=SCOPES[scope], reason="Chuyển")
    query = "" if path == "/staff/transfers" else f"?q={code}"
    page = world.client(role).get(path + query)
    assert page.status_code == expected_for_page(role)
    if page.status_code == 303:
        assert page.headers["location"].startswith("/login?next=")
    if page.status_code == 200:
        # Cases coming in are shown to those who may take them over.
        takes = path != "/staff/transfers" or Action.ACCEPT_TRANSFER in MAY[role]
        assert (f"/staff/cases/{case_id}" in page.text) == (scope == "own" and takes)


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_case_page(world: World, role: str, scope: str) -> None:
    case_id, code = open_case(world.store, unit=SCOPES[scope])
    page = world.client(role).get(f"/staff/cases/{case_id}")
    expected = expected_for_page(role)
    if expected == 200 and scope != "own":
        expected = 404
    assert page.status_code == expected
    assert (code in page.text) == (expected == 200)


@pytest.mark.parametrize("action", STEPS, ids=[a.value for a in STEPS])
@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_steps(world: World, role: str, scope: str, action: Action) -> None:
    client = world.client(role)
    case_id, form = world.prepare(action, SCOPES[scope], ACCOUNTS[role] or "canbo.nhattan")
    before = world.case(case_id).version
    token = hidden(client.get("/login").text, "csrf_token")
    data = {"csrf_token": token, "version": str(before)} | form
    answer = client.post(f"/staff/cases/{case_id}/{action.value}", data=data)
    expected = expected_for_step(role, scope, action)
    assert answer.status_code == expected, answer.text[-600:]
    changed = world.case(case_id).version != before
    assert changed == (expected == 303 and ACCOUNTS[role] is not None)
    if ACCOUNTS[role] is None:
        assert answer.headers["location"] == f"/login?next=%2Fstaff%2Fcases%2F{case_id}"


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_bulk_assign(world: World, role: str, scope: str) -> None:
    client = world.client(role)
    case_id, _ = open_case(world.store, unit=SCOPES[scope])
    world.step(case_id, Action.ACCEPT)
    version = world.case(case_id).version
    token = hidden(client.get("/login").text, "csrf_token")
    data = {"csrf_token": token, "case": f"{case_id}:{version}", "assignee": "canbo.nhattan"}
    answer = client.post("/staff/queue/assign", data=data)
    may_assign = role in ("handler", "head")
    if ACCOUNTS[role] is None:
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    elif not may_assign:
        assert answer.status_code == 403
    elif scope == "own":
        assert answer.status_code == 303
    else:  # reported as not found, nothing changed
        assert answer.status_code == 200 and "Không tìm thấy phản ánh." in answer.text
    assigned = world.case(case_id).assignee == "canbo.nhattan"
    assert assigned == (may_assign and scope == "own")


def test_the_matrix_covers_every_step_and_role() -> None:
    assert set(STEPS) == set(Action) - {Action.VIEW}
    assert set(MAY) | {"admin", "anonymous"} == set(ACCOUNTS)
    assert {a.role for a in build_test_organisation().staff.values()} >= {
        r.value for r in (Role.OPERATOR, Role.HANDLER, Role.HEAD, Role.INSPECTOR, Role.ADMIN)
    }


# --- the admin pages and the account page ---------------------------------------------------

ADMIN_PAGES = ["/admin/org", "/admin/org?as_of=2025-01-01", "/admin/calendar",
               "/admin/org/units/nhat-tan"]
# A change about something of each scope: (form, fields); harmless to the other tests.
ADMIN_CHANGES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "own": [
        ("rename-unit", {"unit_id": "nhat-tan", "name_vi": "UBND phường Nhật Tân",
                         "name_en": "Nhật Tân Ward"}),
        ("rename-counter", {"counter_id": "nhat-tan-q3", "name_vi": "Quầy 3 – Lao động",
                            "name_en": "Counter 3 – Labour"}),
        ("reset-password", {"username": "canbo.nhattan", "password": "demo-2026"}),
    ],
    "other ward": [
        ("rename-unit", {"unit_id": "quang-an", "name_vi": "Quảng An", "name_en": "Quảng An"}),
        ("close-counter", {"counter_id": "quang-an-q3", "reason": "Thử"}),
        ("reset-password", {"username": "canbo.quangan", "password": "demo-2026"}),
    ],
    "parent district": [
        ("rename-unit", {"unit_id": "tay-ho", "name_vi": "Tây Hồ", "name_en": "Tây Hồ"}),
        ("create-unit", {"unit_id": "xuan-la", "name_vi": "Xuân La", "name_en": "Xuân La",
                         "level": "ward", "parent_id": "tay-ho"}),
        ("deactivate-staff", {"username": "lanhdao.tayho", "reason": "Thử"}),
    ],
}


def expected_for_admin(role: str, allowed: int = 200) -> int:
    if ACCOUNTS[role] is None:
        return 303
    return allowed if role == "admin" else 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_admin_pages(world: World, role: str, path: str) -> None:
    page = world.client(role).get(path)
    assert page.status_code == expected_for_admin(role)
    if page.status_code == 303:
        assert page.headers["location"].startswith("/login?next=%2Fadmin")


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_unit_history_by_scope(world: World, role: str, scope: str) -> None:
    page = world.client(role).get(f"/admin/org/units/{SCOPES[scope]}")
    expected = expected_for_admin(role)
    if expected == 200 and scope != "own":
        expected = 404  # outside the subtree, the unit does not exist for this account
    assert page.status_code == expected


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_admin_changes(world: World, role: str, scope: str) -> None:
    client = world.client(role)
    token = hidden(client.get("/login").text, "csrf_token")
    for name, fields in ADMIN_CHANGES[scope]:
        before = len(world.org_app.events_of(_aggregate(name, fields)))
        answer = client.post(f"/admin/org/{name}", data={"csrf_token": token} | fields)
        expected = expected_for_admin(role, 303 if scope == "own" else 403)
        assert answer.status_code == expected, (name, answer.text[-600:])
        changed = len(world.org_app.events_of(_aggregate(name, fields))) != before
        assert changed == (role == "admin" and scope == "own"), name
        if ACCOUNTS[role] is None:
            assert answer.headers["location"] == "/login?next=%2Fadmin%2Forg"


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_calendar_decrees(world: World, role: str) -> None:
    client = world.client(role)
    token = hidden(client.get("/login").text, "csrf_token")
    day = date(2027, 3, 1 + list(ACCOUNTS).index(role))
    answer = client.post("/admin/calendar/day-off",
                         data={"csrf_token": token, "day": day.isoformat(), "reason": "QĐ"})
    assert answer.status_code == expected_for_admin(role, 303)
    decreed = day in {d.day for d in world.calendar_app.decrees(2027)}
    assert decreed == (role == "admin")


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_privacy_erase(world: World, role: str, scope: str) -> None:
    """UnitAction.ERASE_PERSONAL_DATA: administrators, for a case of their subtree."""
    if not isinstance(world.store.personal_data, PersonalDataVault):
        world.store.personal_data = PersonalDataVault(InMemoryKeyStore(), os.urandom(32))
    vault = world.store.personal_data
    case_id, code = open_case(world.store, unit=SCOPES[scope], contact_phone="0912345678")
    client = world.client(role)
    assert client.get("/admin/privacy/erase").status_code == expected_for_admin(role)
    token = hidden(client.get("/login").text, "csrf_token")
    answer = client.post("/admin/privacy/erase", data={
        "csrf_token": token, "tracking_code": code, "reason": "Đơn 1", "legal_basis": "NĐ 13",
        "confirm": "yes"})  # fmt: skip
    may = role == "admin" and scope == "own"
    expected = expected_for_admin(role, 303 if may else 403)
    assert answer.status_code == expected, answer.text[-400:]
    received: Any = next(iter(world.store.events.get(case_id, lte=1)))
    assert vault.reveal(received.contact_phone).erased == may


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_account_page(world: World, role: str) -> None:
    page = world.client(role).get("/staff/account/totp")
    assert page.status_code == (303 if ACCOUNTS[role] is None else 200)


def _aggregate(name: str, fields: dict[str, str]) -> UUID:
    if "username" in fields:
        return staff_aggregate_id(fields["username"])
    if "counter_id" in fields:
        return counter_aggregate_id(fields["counter_id"])
    return unit_aggregate_id(fields["unit_id"])


# --- the counter kiosks and the paper cards (UnitAction, permissions.check_unit) ------------

KIOSK_COUNTERS = {"own": "nhat-tan-q1", "other ward": "quang-an-q1",
                  "parent district": "tay-ho-q1"}
ENROLS_KIOSKS = {"admin", "head"}
ENTERS_PAPER = {"operator", "handler", "head"}


def _devices(world: World) -> DevicesApplication:
    if world.services.devices is None:
        world.services.devices = DevicesApplication(env=POPO)
    return world.services.devices


def _kiosk_events(world: World, counter_id: str) -> int:
    kiosks = _devices(world).kiosks_of(counter_id)
    return 0 if kiosks is None else kiosks.version


def expected_for_unit_page(role: str, allowed: set[str]) -> int:
    if ACCOUNTS[role] is None:
        return 303
    return 200 if role in allowed else 403


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_kiosk_admin_page(world: World, role: str) -> None:
    _devices(world)
    page = world.client(role).get("/admin/kiosks")
    assert page.status_code == expected_for_unit_page(role, ENROLS_KIOSKS)
    if page.status_code == 303:
        assert page.headers["location"].startswith("/login?next=%2Fadmin%2Fkiosks")


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_kiosk_enrol_and_revoke(world: World, role: str, scope: str) -> None:
    devices = _devices(world)
    client = world.client(role)
    counter = KIOSK_COUNTERS[scope]
    token = hidden(client.get("/login").text, "csrf_token")
    before = _kiosk_events(world, counter)
    enrol = client.post("/admin/kiosks/enrol", data={"csrf_token": token, "counter_id": counter})
    may = role in ENROLS_KIOSKS and scope == "own"
    expected = expected_for_unit_page(role, ENROLS_KIOSKS)
    assert enrol.status_code == (403 if expected == 200 and not may else expected)
    assert (_kiosk_events(world, counter) != before) == may
    existing = devices.kiosks_of(counter)
    serial = len(existing.kiosks) + 1 if existing else 1
    devices.enrol(counter, NOW, SETUP.username)
    before = _kiosk_events(world, counter)
    revoke = client.post("/admin/kiosks/revoke", data={
        "csrf_token": token, "counter_id": counter, "serial": str(serial), "reason": "Thử"})
    assert revoke.status_code == (303 if may else 403 if expected == 200 else expected)
    assert (_kiosk_events(world, counter) != before) == may


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_paper_cards_page(world: World, role: str) -> None:
    _devices(world)
    page = world.client(role).get("/staff/paper-cards")
    assert page.status_code == expected_for_unit_page(role, ENTERS_PAPER)


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_paper_cards_confirm(world: World, role: str, scope: str) -> None:
    _devices(world)
    publisher = world.services.publisher
    assert isinstance(publisher, RecordingPublisher)
    client = world.client(role)
    token = hidden(client.get("/login").text, "csrf_token")
    cards = "4\n" * (1 + list(ACCOUNTS).index(role) * 3 + list(SCOPES).index(scope))
    before = len(publisher.published)
    answer = client.post("/staff/paper-cards/confirm", data={
        "csrf_token": token, "counter_id": KIOSK_COUNTERS[scope], "day": "2026-01-05",
        "cards": cards})
    may = role in ENTERS_PAPER and scope == "own"
    expected = expected_for_unit_page(role, ENTERS_PAPER)
    assert answer.status_code == (303 if may else 403 if expected == 200 else expected)
    assert len(publisher.published) - before == (cards.count("\n") if may else 0)


# --- officers' photos on kiosks (UnitAction.SET_STAFF_PHOTO, SET_KIOSK_PHOTOS) --------------
PHOTO_OF = {"own": "canbo.nhattan", "other ward": "canbo.quangan",
            "parent district": "lanhdao.tayho"}


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_staff_photo_upload(world: World, role: str, scope: str) -> None:
    from tests.web.test_web_photo import png
    from web.media import MemoryPhotoStore

    if world.services.photos is None:
        world.services.photos = MemoryPhotoStore()
    username = PHOTO_OF[scope]
    client = world.client(role)
    page = client.get(f"/admin/org/staff/{username}")
    may = role == "admin" and scope == "own"
    assert page.status_code == expected_for_admin(role, 200 if may else 403)
    token = hidden(client.get("/login").text, "csrf_token")
    before = world.org_app.staff_member(username).version
    photo = png(3 + list(ACCOUNTS).index(role), 2)  # a new photo each time
    answer = client.post(f"/admin/org/staff/{username}/photo", data={"csrf_token": token},
                         files={"photo": ("me.png", photo, "image/png")})
    assert answer.status_code == expected_for_admin(role, 303 if may else 403), answer.text[-400:]
    assert (world.org_app.staff_member(username).version != before) == may
    if ACCOUNTS[role] is None:
        assert answer.headers["location"].startswith("/login")


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_kiosk_photos_setting(world: World, role: str, scope: str) -> None:
    unit_id = SCOPES[scope]
    client = world.client(role)
    token = hidden(client.get("/login").text, "csrf_token")
    unit = world.org_app.unit(unit_id)
    show = "0" if unit.shows_kiosk_photos else "1"
    answer = client.post(f"/admin/org/units/{unit_id}/kiosk-photos",
                         data={"csrf_token": token, "show": show})
    may = role == "admin" and scope == "own"
    assert answer.status_code == expected_for_admin(role, 303 if may else 403)
    assert (world.org_app.unit(unit_id).version != unit.version) == may
