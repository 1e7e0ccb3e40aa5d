"""Business dates are local dates in Hà Nội: a day starts at midnight Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(at: datetime) -> date:
    return at.astimezone(LOCAL_ZONE).date()
