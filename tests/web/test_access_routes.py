"""Every route of the app is classified, and every staff route has a role × scope entry.

``ROUTES`` maps each route (method and path, as the app declares it) to who may use it:
public pages, machine endpoints (an API key, a signature or a device token) or staff pages
with the roles that may open them, what scope means for them and the test of the matrix
that proves it. ``test_every_route_is_classified`` fails when the app grows a route the table
does not know, so a new staff endpoint cannot slip in unchecked.

The second half is the matrix of the staff pages that read figures or lists (dashboard and
its exports, the overdue list, the monthly report, SIPAS, the inspector's pages, posters,
photos) and of the staff POSTs not covered in ``test_web_access.py``: every role × scope
(own ward, sibling ward, parent district), allowed → 2xx/3xx, refused → 403 (sign-in for the
signed out), nothing recorded when refused, and no sibling's or parent's marker in any page
that is shown. The world is ``test_web_access.World`` with the figures double of the
dashboard tests.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from typing import NamedTuple
from uuid import UUID

import openpyxl
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from feedback_core.inspections import InspectionsApplication
from projections.figures_queries import Totals
from tests.support.qr import qr_token
from tests.web import test_web_access
from tests.web.conftest import POPO
from tests.web.test_dashboard import FakeFigures
from tests.web.test_web_access import ACCOUNTS, KIOSK_COUNTERS, PHOTO_OF, SCOPES, World
from tests.web.test_web_photo import png
from tests.web.web_doubles import NOW, RecordingPublisher, hidden, open_case, queue_row
from web.media import MemoryPhotoStore, checked_photo

CASE_ROLES = frozenset({"operator", "handler", "head", "inspector"})
ANY_STAFF = frozenset({"operator", "handler", "head", "inspector", "admin"})
ADMIN = frozenset({"admin"})
HEAD_INSPECTOR = frozenset({"head", "inspector"})
POSTER_MAKERS = frozenset({"admin", "head"})


class Staff(NamedTuple):
    roles: frozenset[str]  # who may use it (in scope); everyone else: 403, signed out: login
    scope: str  # what "in scope" is about: case, unit, counter, staff member, account, none
    test: str  # the matrix test that proves it ("module::function")


PUBLIC = "public"  # citizens' and public pages, static files, health, OpenAPI, transparency
MACHINE = "machine"  # an API key, a webhook signature or a kiosk's device token

WA = "test_web_access"
HERE = "test_access_routes"
ROUTES: dict[str, str | Staff] = {
    "GET /openapi.json": PUBLIC,
    "MOUNT /static": PUBLIC,
    "GET /": PUBLIC,
    "GET /q/{token}": PUBLIC,  # the QR form: the signed QR token names the counter
    "POST /q/{token}": PUBLIC,
    "GET /t": PUBLIC,
    "GET /t/{code}": PUBLIC,  # the tracking code is the citizen's key
    "POST /t/{code}/confirm": PUBLIC,
    "POST /t/{code}/{step}": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "GET /login/totp": PUBLIC,
    "POST /login/totp": PUBLIC,
    "POST /logout": PUBLIC,
    "GET /minh-bach": PUBLIC,
    "GET /minh-bach/{unit_id}": PUBLIC,
    "GET /healthz": PUBLIC,
    # Content-addressed (sha256 of the photo), served only while the unit shows photos.
    "GET /staff-photos/{username}/{sha256}": PUBLIC,
    "GET /kiosk/{token}": MACHINE,
    "POST /kiosk/{token}": MACHINE,
    "GET /kiosk/{token}/thanks": MACHINE,
    "POST /kiosk/{token}/ratings": MACHINE,
    "POST /api/hotline/v1/calls": MACHINE,
    "GET /zalo/webhook": PUBLIC,  # Zalo's URL check: a fixed answer, no data
    "POST /zalo/webhook": MACHINE,
    # Open311 reads are public by the standard (no personal data); posting needs a key.
    "GET /open311/v2/discovery.{fmt}": PUBLIC,
    "GET /open311/v2/services.{fmt}": PUBLIC,
    "GET /open311/v2/services/{service_code}.{fmt}": PUBLIC,
    "POST /open311/v2/requests.{fmt}": MACHINE,
    "GET /open311/v2/requests.{fmt}": PUBLIC,
    "GET /open311/v2/requests/{request_id}.{fmt}": PUBLIC,
    "GET /open311/v2/tokens/{token}.{fmt}": PUBLIC,
    "* /open311/v2/{rest:path}": PUBLIC,  # the standard's 404 for anything else
    # --- staff: the case pages -----------------------------------------------------------
    "GET /staff/queue": Staff(CASE_ROLES, "case", f"{WA}::test_list_pages"),
    "GET /staff/my": Staff(CASE_ROLES, "case", f"{WA}::test_list_pages"),
    "GET /staff/transfers": Staff(CASE_ROLES, "case", f"{WA}::test_list_pages"),
    "POST /staff/queue/assign": Staff(frozenset({"handler", "head"}), "case",
                                      f"{WA}::test_bulk_assign"),
    "GET /staff/cases/{case_id}": Staff(CASE_ROLES, "case", f"{WA}::test_case_page"),
    "GET /staff/cases/{case_id}/photo": Staff(CASE_ROLES, "case", f"{HERE}::test_reading"),
    "POST /staff/cases/{case_id}/{action}": Staff(CASE_ROLES, "case", f"{WA}::test_steps"),
    "GET /staff/account/totp": Staff(ANY_STAFF, "account", f"{WA}::test_account_page"),
    "POST /staff/account/totp": Staff(ANY_STAFF, "account", f"{HERE}::test_account_change"),
    "GET /staff/hotline": Staff(frozenset({"operator"}), "unit", f"{HERE}::test_reading"),
    "POST /staff/hotline": Staff(frozenset({"operator"}), "unit", f"{HERE}::test_hotline_call"),
    "GET /staff/paper-cards": Staff(frozenset({"operator", "handler", "head"}), "counter",
                                    f"{WA}::test_paper_cards_page"),
    "POST /staff/paper-cards/review": Staff(frozenset({"operator", "handler", "head"}),
                                            "counter", f"{HERE}::test_paper_cards_review"),
    "POST /staff/paper-cards/confirm": Staff(frozenset({"operator", "handler", "head"}),
                                             "counter", f"{WA}::test_paper_cards_confirm"),
    # --- staff: figures and reports ------------------------------------------------------
    "GET /staff/dashboard": Staff(HEAD_INSPECTOR, "unit", f"{HERE}::test_reading"),
    "GET /staff/dashboard.xlsx": Staff(HEAD_INSPECTOR, "unit", f"{HERE}::test_reading"),
    "GET /staff/dashboard/overdue": Staff(HEAD_INSPECTOR, "unit", f"{HERE}::test_reading"),
    "GET /staff/dashboard/{table}.csv": Staff(HEAD_INSPECTOR, "unit", f"{HERE}::test_reading"),
    "GET /staff/dashboard/{table}.xlsx": Staff(HEAD_INSPECTOR, "unit",
                                               f"{HERE}::test_reading"),
    "GET /staff/reports/monthly": Staff(HEAD_INSPECTOR, "unit", f"{HERE}::test_reading"),
    "GET /staff/sipas": Staff(HEAD_INSPECTOR, "unit", f"{HERE}::test_reading"),
    "GET /staff/posters/{counter_id}.svg": Staff(POSTER_MAKERS, "counter",
                                                 f"{HERE}::test_reading"),
    "GET /staff/posters/{unit_id}.zip": Staff(POSTER_MAKERS, "unit", f"{HERE}::test_reading"),
    "GET /staff/posters/{unit_id}": Staff(POSTER_MAKERS, "unit", f"{HERE}::test_reading"),
    # --- staff: the inspector's pages ----------------------------------------------------
    "GET /inspect": Staff(HEAD_INSPECTOR, "case", f"{HERE}::test_reading"),
    "GET /inspect/cases/{case_id}": Staff(HEAD_INSPECTOR, "case", f"{HERE}::test_reading"),
    "GET /inspect/cases/{case_id}/export.json": Staff(HEAD_INSPECTOR, "case",
                                                      f"{HERE}::test_reading"),
    "GET /inspect/log": Staff(HEAD_INSPECTOR, "case", f"{HERE}::test_reading"),
    # A rebuild of the read models: the whole store, so no scope (inspectors only).
    "GET /inspector/rebuild": Staff(frozenset({"inspector"}), "none", f"{HERE}::test_reading"),
    "POST /inspector/rebuild": Staff(frozenset({"inspector"}), "none",
                                     f"{HERE}::test_rebuild_start"),
    # --- staff: administration -----------------------------------------------------------
    "GET /admin": Staff(ADMIN, "none", f"{HERE}::test_reading"),
    "GET /admin/org": Staff(ADMIN, "unit", f"{WA}::test_admin_pages"),
    "GET /admin/org/units/{unit_id}": Staff(ADMIN, "unit", f"{WA}::test_unit_history_by_scope"),
    "POST /admin/org/{name}": Staff(ADMIN, "unit", f"{WA}::test_admin_changes"),
    "POST /admin/org/qr/issue": Staff(ADMIN, "counter", f"{HERE}::test_qr_issue_and_revoke"),
    "POST /admin/org/qr/revoke": Staff(ADMIN, "counter", f"{HERE}::test_qr_issue_and_revoke"),
    "GET /admin/org/staff/{username}": Staff(ADMIN, "staff member",
                                             f"{WA}::test_staff_photo_upload"),
    "GET /admin/org/staff/{username}/photo": Staff(ADMIN, "staff member",
                                                   f"{HERE}::test_reading"),
    "POST /admin/org/staff/{username}/photo": Staff(ADMIN, "staff member",
                                                    f"{WA}::test_staff_photo_upload"),
    "POST /admin/org/staff/{username}/photo/remove": Staff(ADMIN, "staff member",
                                                           f"{HERE}::test_photo_remove"),
    "POST /admin/org/units/{unit_id}/kiosk-photos": Staff(ADMIN, "unit",
                                                          f"{WA}::test_kiosk_photos_setting"),
    "GET /admin/calendar": Staff(ADMIN, "none", f"{WA}::test_admin_pages"),
    "POST /admin/calendar/{name}": Staff(ADMIN, "none", f"{WA}::test_calendar_decrees"),
    "GET /admin/privacy/erase": Staff(ADMIN, "case", f"{WA}::test_privacy_erase"),
    "POST /admin/privacy/erase": Staff(ADMIN, "case", f"{WA}::test_privacy_erase"),
    "GET /admin/kiosks": Staff(POSTER_MAKERS, "counter", f"{WA}::test_kiosk_admin_page"),
    "POST /admin/kiosks/enrol": Staff(POSTER_MAKERS, "counter",
                                      f"{WA}::test_kiosk_enrol_and_revoke"),
    "POST /admin/kiosks/revoke": Staff(POSTER_MAKERS, "counter",
                                       f"{WA}::test_kiosk_enrol_and_revoke"),
}
ALL_METHODS = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}


def app_routes(world: World) -> set[str]:
    """``METHOD path`` of every route the app serves (HEAD folded into GET)."""
    found: set[str] = set()
    for route in iter_route_contexts(world.app.routes):
        if isinstance(route.original_route, Mount):
            found.add(f"MOUNT {route.path}")
            continue
        methods = set(route.methods or ())
        if methods >= ALL_METHODS:
            found.add(f"* {route.path}")
            continue
        found |= {f"{m} {route.path}" for m in methods - {"HEAD"}}
    return found


def test_every_route_is_classified(world: World) -> None:
    served = app_routes(world)
    assert len(served) > 60  # the enumeration itself works (routers are not flattened)
    unknown = served - set(ROUTES)
    assert not unknown, f"classify these routes in ROUTES and add them to a matrix: {unknown}"
    stale = set(ROUTES) - served
    assert not stale, f"routes the app no longer serves: {stale}"


def test_every_staff_entry_names_a_real_matrix_test() -> None:
    modules = {WA: test_web_access, HERE: globals()}
    for route, entry in ROUTES.items():
        if isinstance(entry, Staff):
            module, name = entry.test.split("::")
            found = modules[module]
            assert (name in found) if isinstance(found, dict) else hasattr(found, name), route
            assert entry.roles <= ANY_STAFF, route


def test_every_staff_get_route_is_in_a_matrix_here_or_there() -> None:
    """The GET pages proved here are exactly those the reading matrix requests."""
    here = {r for r, e in ROUTES.items() if isinstance(e, Staff) and e.test.endswith(
        "::test_reading")}
    assert here == {page.route for page in READING}


# --- the world ------------------------------------------------------------------------------

OVERDUE = {scope: queue_row(unit, f"{unit}-q1", date(2026, 11, 12),
                            assignee=PHOTO_OF[scope]) for scope, unit in SCOPES.items()}
# What must never show for a Nhật Tân account: the sibling ward's and the district's own
# names, officers, codes (the district is above the ward, not in its scope).
FOREIGN = ["Quảng An", "quang-an", "Trần Văn Minh", "canbo.quangan", "Phạm Quốc Hùng",
           "lanhdao.tayho", "quận Tây Hồ", OVERDUE["other ward"].tracking_code,
           OVERDUE["parent district"].tracking_code]


class Reading(World):
    """The access matrix's world with figures, the inspections log, posters and photos."""

    def __init__(self) -> None:
        super().__init__()
        figures = FakeFigures()
        figures.totals = {unit: Totals(received=9, resolved=5, on_time=4, ratings=7,
                                       satisfied=6) for unit in SCOPES.values()}
        figures.overdue = list(OVERDUE.values())
        self.app.state.figures = figures
        self.services.inspections = InspectionsApplication(env=POPO)
        self.cases: dict[str, tuple[UUID, str]] = {
            scope: open_case(self.store, unit=unit) for scope, unit in SCOPES.items()
        }
        for scope in ("other ward", "parent district"):  # looked at by the district's head
            case_id, code = self.cases[scope]
            self.services.inspections.record(
                inspector="lanhdao.tayho", role="head", inspector_unit="tay-ho",
                case_id=case_id, tracking_code=code, case_unit=SCOPES[scope], at=NOW)
        FOREIGN.extend(self.cases[s][1] for s in ("other ward", "parent district"))
        self.photos = MemoryPhotoStore()
        self.services.photos = self.photos
        photo = checked_photo(png(4, 3))
        self.photos.put(photo)
        for username in PHOTO_OF.values():  # every scope's officer has a photo to preview
            self.org_app.set_staff_photo(username, sha256=photo.sha256,
                                         effective_on=date(2026, 1, 1), actor="quantri.tayho")

    def recorded(self) -> int:
        """Everything a request could record: inspections, published submissions, events."""
        inspections = self.services.inspections
        assert inspections is not None
        publisher = self.services.publisher
        assert isinstance(publisher, RecordingPublisher)
        return (len(list(inspections.records())) + len(list(inspections.dashboard_records()))
                + len(publisher.published) + (self.store.recorder.max_notification_id() or 0))


@pytest.fixture(scope="module")
def world() -> Iterator[Reading]:
    built = Reading()
    yield built
    for client in built.clients.values():
        client.close()


# --- the reading matrix ---------------------------------------------------------------------


class Page(NamedTuple):
    route: str  # the ROUTES key
    url: str  # {unit} {counter} {holder} {case} {code}: the scope's
    own: int = 200  # what an allowed role gets for its own scope
    out: int = 403  # ... and for the sibling ward and the parent district
    refused: int = 403  # what a role that may not use it gets
    shows: str = ""  # shown to an allowed role in its own scope: the page lists for real


READING = [
    Page("GET /staff/dashboard", "/staff/dashboard?unit={unit}", shows="Nhật Tân"),
    Page("GET /staff/dashboard.xlsx", "/staff/dashboard.xlsx?unit={unit}",
         shows=OVERDUE["own"].tracking_code),
    Page("GET /staff/dashboard/overdue", "/staff/dashboard/overdue?unit={unit}",
         shows=OVERDUE["own"].tracking_code),
    Page("GET /staff/dashboard/overdue", "/staff/dashboard/overdue?holder={holder}",
         shows=OVERDUE["own"].tracking_code),
    Page("GET /staff/dashboard/{table}.csv", "/staff/dashboard/units.csv?unit={unit}"),
    Page("GET /staff/dashboard/{table}.csv", "/staff/dashboard/overdue.csv?unit={unit}",
         shows=OVERDUE["own"].tracking_code),
    Page("GET /staff/dashboard/{table}.csv", "/staff/dashboard/officers.csv?unit={unit}",
         shows="Nguyễn Thị Lan"),
    Page("GET /staff/dashboard/{table}.xlsx", "/staff/dashboard/overdue.xlsx?unit={unit}",
         shows=OVERDUE["own"].tracking_code),
    Page("GET /staff/reports/monthly", "/staff/reports/monthly?unit={unit}", shows="Nhật Tân"),
    Page("GET /staff/sipas", "/staff/sipas?unit={unit}", shows="Nhật Tân"),
    Page("GET /staff/posters/{unit_id}", "/staff/posters/{unit}", shows="Nhật Tân"),
    Page("GET /staff/posters/{unit_id}.zip", "/staff/posters/{unit}.zip"),
    Page("GET /staff/posters/{counter_id}.svg", "/staff/posters/{counter}.svg"),
    Page("GET /staff/hotline", "/staff/hotline", out=200, shows="Nhật Tân"),  # scope: choices
    Page("GET /staff/cases/{case_id}/photo", "/staff/cases/{case}/photo", own=404, out=404),
    Page("GET /inspect", "/inspect", out=200),
    Page("GET /inspect", "/inspect?code={code}", own=303, out=200),
    Page("GET /inspect/cases/{case_id}", "/inspect/cases/{case}", shows="{code}"),
    Page("GET /inspect/cases/{case_id}/export.json", "/inspect/cases/{case}/export.json",
         own=503),  # the bundle needs the database; in scope it gets that far
    Page("GET /inspect/log", "/inspect/log", out=200),
    Page("GET /inspector/rebuild", "/inspector/rebuild", out=200),
    Page("GET /admin", "/admin", own=303, out=303),
    # An image: refused as not found, like a photo that is not there.
    Page("GET /admin/org/staff/{username}/photo", "/admin/org/staff/{holder}/photo",
         out=404, refused=404),
]


def url_of(world: Reading, page: Page, scope: str) -> str:
    case_id, code = world.cases[scope]
    return page.url.format(unit=SCOPES[scope], counter=KIOSK_COUNTERS[scope],
                           holder=PHOTO_OF[scope], case=case_id, code=code)


def text_of(body: bytes, content_type: str) -> str:
    """What a person would read: XLSX cells, zipped SVG posters, or the text itself."""
    if "spreadsheet" in content_type:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets
                         for row in sheet.iter_rows(values_only=True) for cell in row)
    if content_type.startswith("image/"):
        return ""  # the photo itself: checked by its status and scope
    if "zip" in content_type:
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(name + archive.read(name).decode() for name in archive.namelist())
    return body.decode()


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
@pytest.mark.parametrize("page", READING, ids=[p.url for p in READING])
def test_reading(world: Reading, page: Page, role: str, scope: str) -> None:
    entry = ROUTES[page.route]
    assert isinstance(entry, Staff)
    url = url_of(world, page, scope)
    before = world.recorded()
    answer = world.client(role).get(url)
    if ACCOUNTS[role] is None:
        expected = 303
    elif role not in entry.roles:
        expected = page.refused
    else:
        expected = page.own if scope == "own" else page.out
    assert answer.status_code == expected, answer.text[-400:]
    if ACCOUNTS[role] is None:
        assert answer.headers["location"].startswith("/login?next=")
    # Refused: nothing recorded; an allowed look at a case is recorded before it shows.
    looked = url.startswith("/inspect/cases/") and expected == page.own and scope == "own"
    assert world.recorded() == before + (1 if looked else 0)
    if answer.status_code == 303 and ACCOUNTS[role] is not None:
        location = answer.headers["location"]
        assert scope == "own" and str(world.cases["own"][0]) in location or location == (
            "/admin/org")
    if answer.status_code == 200:
        shown = text_of(answer.content, answer.headers.get("content-type", ""))
        if "?code=" in url:  # the form repeats what was typed, nothing more
            shown = shown.replace(world.cases[scope][1], "")
        leaked = [m for m in FOREIGN if m in shown]
        assert not leaked, f"{url} as {role} shows {leaked}"
        if scope == "own" and page.shows:
            assert page.shows.format(code=world.cases["own"][1]) in shown, url


def test_the_reading_matrix_size() -> None:
    """Recorded in docs/security.md: pages × roles × scopes of the reading matrix."""
    assert len(READING) * len(ACCOUNTS) * len(SCOPES) == 23 * 6 * 3


# --- the staff POSTs not covered in test_web_access.py --------------------------------------


def csrf(world: Reading, role: str) -> str:
    return hidden(world.client(role).get("/login").text, "csrf_token")


def expected_post(role: str, roles: frozenset[str], scope: str, ok: int = 303) -> int:
    if ACCOUNTS[role] is None:
        return 303
    if role not in roles:
        return 403
    return ok if scope == "own" else 403


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_paper_cards_review(world: Reading, role: str, scope: str) -> None:
    """The review shows the typed cards back; it records nothing for anyone."""
    entry = ROUTES["POST /staff/paper-cards/review"]
    assert isinstance(entry, Staff)
    test_web_access._devices(world)
    before = world.recorded()
    answer = world.client(role).post("/staff/paper-cards/review", data={
        "csrf_token": csrf(world, role), "counter_id": KIOSK_COUNTERS[scope],
        "day": "2026-01-05", "cards": "4\n5\n"})
    assert answer.status_code == expected_post(role, entry.roles, scope, ok=200)
    assert world.recorded() == before


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_hotline_call(world: Reading, role: str, scope: str) -> None:
    """The operator records a call for a unit of the scope; another unit is not offered."""
    client = world.client(role)
    publisher = world.services.publisher
    assert isinstance(publisher, RecordingPublisher)
    form: dict[str, str] = {"csrf_token": csrf(world, role)}
    if role == "operator":
        page = client.get("/staff/hotline").text
        form["submission_id"] = hidden(page, "submission_id")
        form["call_time"] = re.findall(r'name="call_time"[^>]*value="([^"]+)"', page)[0]
        form["category"] = re.findall(r'name="category".*?<option value="([^"]+)"', page,
                                      re.DOTALL)[0]
    form |= {"unit_id": SCOPES[scope], "counter_id": KIOSK_COUNTERS[scope],
             "description": "Cán bộ hẹn lại nhiều lần không rõ lý do."}
    before = len(publisher.published)
    answer = client.post("/staff/hotline", data=form)
    if ACCOUNTS[role] is None:
        assert answer.status_code == 303
    elif role != "operator":
        assert answer.status_code == 403
    elif scope == "own":
        assert answer.status_code in (200, 303), answer.text[-400:]
    else:
        assert answer.status_code == 422, answer.text[-400:]
    published = len(publisher.published) - before
    assert published == (1 if role == "operator" and scope == "own" else 0)


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_qr_issue_and_revoke(world: Reading, role: str, scope: str) -> None:
    counter = KIOSK_COUNTERS[scope]
    codes, _keyring = world.services.qr()
    token = qr_token(world.services, counter)
    events = codes.recorder.max_notification_id() or 0
    client = world.client(role)
    issued = client.post("/admin/org/qr/issue", data={
        "csrf_token": csrf(world, role), "counter_id": counter, "reason": "Thử"})
    assert issued.status_code == expected_post(role, ADMIN, scope)
    revoked = client.post("/admin/org/qr/revoke", data={
        "csrf_token": csrf(world, role), "token": token, "reason": "Thử"})
    assert revoked.status_code == expected_post(role, ADMIN, scope)
    changed = (codes.recorder.max_notification_id() or 0) - events
    assert changed == (2 if role == "admin" and scope == "own" else 0)


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_photo_remove(world: Reading, role: str, scope: str) -> None:
    username = PHOTO_OF[scope]
    before = world.org_app.staff_member(username).version
    answer = world.client(role).post(f"/admin/org/staff/{username}/photo/remove",
                                     data={"csrf_token": csrf(world, role)})
    may = role == "admin" and scope == "own"
    assert answer.status_code in ({303, 409, 422} if may else {expected_post(role, ADMIN, scope)})
    if not may:
        assert world.org_app.staff_member(username).version == before


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_rebuild_start(world: Reading, role: str) -> None:
    """Only inspectors start a rebuild (here without a database: 503, nothing started)."""
    before = world.recorded()
    answer = world.client(role).post("/inspector/rebuild",
                                     data={"csrf_token": csrf(world, role)})
    expected = 303 if ACCOUNTS[role] is None else 503 if role == "inspector" else 403
    assert answer.status_code == expected, answer.text[-300:]
    assert world.recorded() == before


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_account_change(world: Reading, role: str) -> None:
    """One's own second factor only: no username in the form; signed out goes to sign in."""
    username = ACCOUNTS[role]
    before = world.org_app.staff_member(username).version if username else 0
    answer = world.client(role).post("/staff/account/totp", data={
        "csrf_token": csrf(world, role), "code": "000000"})
    if username is None:
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        return
    assert answer.status_code in (200, 400, 422), answer.text[-300:]  # a wrong code
    assert world.org_app.staff_member(username).version == before

