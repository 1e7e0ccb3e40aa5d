"""The dashboard's tables as rows, and their exports: CSV (UTF-8 with a byte-order mark, so
spreadsheet programs read Vietnamese) and XLSX (openpyxl), one table per file, or the whole
dashboard as one workbook with a sheet per table.

Both formats are written from the same rows: numbers stay numbers (shares as fractions
rounded to 4 places, handling times to 2), an empty cell is an empty string in CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from starlette.responses import Response

from feedback_core.organisation import Organisation
from projections.figures_queries import ResolutionFigures, Totals

if TYPE_CHECKING:
    from web.dashboard import Dashboard, OverdueLine

TABLES = ("summary", "units", "components", "ranking", "trend", "overdue", "channels",
          "officers", "best_worst")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = list[Any]

_TOTALS_HEADER = ["received", "accepted", "refused", "resolved", "on_time", "early", "late",
                  "on_time_share", "reopened", "ratings", "satisfied", "satisfied_share",
                  "harassment", "second_trip", "confirmed", "confirmed_share"]
_HANDLING_HEADER = ["median_working_days", "p90_working_days"]


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _totals(t: Totals) -> Row:
    return [t.received, t.accepted, t.refused, t.resolved, t.on_time, t.early, t.late,
            _round(t.on_time_share, 4), t.reopened, t.ratings, t.satisfied,
            _round(t.satisfied_share, 4), t.harassment, t.second_trip, t.confirmed,
            _round(t.confirmed_share, 4)]


def _handling(h: ResolutionFigures) -> Row:
    return [_round(h.median_days, 2), _round(h.p90_days, 2)]


def table_rows(  # noqa: PLR0911
    table: str, board: Dashboard, overdue: Sequence[OverdueLine], org: Organisation
) -> tuple[list[str], list[Row]]:
    """The header and rows of one of ``TABLES``."""
    if table == "summary":
        t, h = board.totals, board.handling
        values = dict(zip(_TOTALS_HEADER, _totals(t), strict=True))
        values.update(open_overdue=board.overdue, resolutions_timed=h.resolved,
                      median_working_days=_round(h.median_days, 2),
                      p90_working_days=_round(h.p90_days, 2))
        return ["figure", "value"], [[k, v] for k, v in values.items()]
    if table == "units":
        return (["unit_id", "unit", *_TOTALS_HEADER, "open_overdue", *_HANDLING_HEADER],
                [[ln.unit.id, ln.unit.name_vi, *_totals(ln.totals), ln.overdue,
                  *_handling(ln.handling)] for ln in board.lines])
    if table == "components":
        return (["component", "ratings", "mean_score"],
                [[code, f.ratings if f else 0, _round(f.mean if f else None, 3)]
                 for code, _label, f in board.components])
    if table == "ranking":
        r = board.ranking
        return (["rank", "unit_id", "ratings", "satisfied", "raw_share", "estimate",
                 "low_95", "high_95"],
                [[u.rank if u.rank is not None else "not ranked", u.unit_id, u.ratings,
                  u.satisfied, _round(u.raw_share, 4), _round(u.estimate, 4),
                  _round(u.low, 4), _round(u.high, 4)] for u in r.ranked + r.not_ranked])
    if table == "trend":
        first = "day" if board.group == "day" else f"{board.group}_start"
        return ([first, "received", "resolved"],
                [[d.day.isoformat(), d.received, d.resolved] for d in board.trend_points])
    if table == "overdue":
        return (["tracking_code", "unit_id", "channel", "status", "received_at", "due_on",
                 "days_overdue", "holder"],
                [[o.row.tracking_code, o.row.unit_id, o.row.channel, o.row.status,
                  o.row.received_at.isoformat(), o.row.due_on.isoformat(), o.days_late,
                  o.row.assignee or ""] for o in overdue])
    if table == "channels":
        return (["channel", *_TOTALS_HEADER, "mean_score", "open_overdue", *_HANDLING_HEADER],
                [[c.channel, *_totals(c.totals), _round(c.totals.mean_score, 3), c.overdue,
                  *_handling(c.handling)] for c in board.channels])
    if table == "officers":
        return (["username", "officer", "unit_id", "resolved", "on_time", "late",
                 "on_time_share", *_HANDLING_HEADER, "held_open", "held_overdue"],
                [[o.account.username, o.account.display_name, o.account.unit_id,
                  o.handling.resolved, o.handling.on_time, o.handling.late,
                  _round(o.handling.on_time_share, 4), *_handling(o.handling), o.held.open,
                  o.held.overdue] for o in board.officers])
    rows = []
    for ex in board.extremes:
        for position, found in (("best", ex.best), ("worst", ex.worst)):
            for u in found:
                place = board.places.get(u.unit_id)
                rows.append([ex.kind, ex.measure, position, u.rank, u.unit_id,
                             place.item.name_vi if place else "", u.ratings, u.satisfied,
                             _round(u.raw_share, 4), _round(u.estimate, 4), _round(u.low, 4),
                             _round(u.high, 4)])
    return (["level", "measure", "position", "rank", "id", "name", "sample", "successes",
             "raw_share", "estimate", "low_95", "high_95"], rows)


def _file_name(table: str, board: Dashboard) -> str:
    return f"{table}-{board.unit.id}-{board.period.start}-{board.period.end}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def not_a_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a name typed as ``=HYPERLINK(...)``)
    gets a leading quote, so it shows as text (OWASP: CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> str:
    """As a spreadsheet shows the XLSX cell: 9.0 is 9."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(not_a_formula(value))


def csv_table(
    table: str, board: Dashboard, overdue: Sequence[OverdueLine], org: Organisation
) -> Response:
    header, rows = table_rows(table, board, overdue, org)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(table, board)}.csv"'},
    )


def _sheet(book: Workbook, table: str, header: list[str], rows: list[Row]) -> None:
    sheet = book.create_sheet(title=table[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([not_a_formula(v) for v in row])
    sheet.freeze_panes = "A2"


def _xlsx_response(book: Workbook, name: str) -> Response:
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def xlsx_table(
    table: str, board: Dashboard, overdue: Sequence[OverdueLine], org: Organisation
) -> Response:
    book = Workbook()
    book.remove(book.active)
    _sheet(book, table, *table_rows(table, board, overdue, org))
    return _xlsx_response(book, _file_name(table, board))


def xlsx_workbook(board: Dashboard, overdue: Sequence[OverdueLine], org: Organisation
                  ) -> Response:
    """The whole dashboard: one sheet per table, in the order of ``TABLES``."""
    book = Workbook()
    book.remove(book.active)
    for table in TABLES:
        _sheet(book, table, *table_rows(table, board, overdue, org))
    return _xlsx_response(book, _file_name("dashboard", board))
