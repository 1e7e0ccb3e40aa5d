"""Vietnamese labels (the msgids) for the codes the domain uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from feedback_core.intake import ComplaintCategory
from web.i18n import N_

K = TypeVar("K")

RATING_LABELS: dict[int, str] = {
    1: N_("Rất không hài lòng"),
    2: N_("Không hài lòng"),
    3: N_("Bình thường"),
    4: N_("Hài lòng"),
    5: N_("Rất hài lòng"),
}

CATEGORY_LABELS: dict[str, str] = {
    ComplaintCategory.HARASSMENT: N_("Sách nhiễu, gây phiền hà (đòi tiền, đòi thêm giấy tờ)"),
    ComplaintCategory.DELAY: N_("Chậm trễ"),
    ComplaintCategory.SECOND_TRIP: N_("Hẹn lại, phải đi lại nhiều lần"),
    ComplaintCategory.ATTITUDE: N_("Thái độ phục vụ"),
    ComplaintCategory.WRONG_PROCEDURE: N_("Sai quy trình, thủ tục"),
    ComplaintCategory.FACILITIES: N_("Cơ sở vật chất"),
    ComplaintCategory.OTHER: N_("Khác"),
}

STATUS_LABELS: dict[str, str] = {
    "rated": N_("Đã ghi nhận đánh giá"),
    "received": N_("Đã tiếp nhận"),
}


def label(labels: Mapping[K, str], code: K | None) -> str:
    """The msgid for a code, or the code itself when a newer core sends one we do not know."""
    return "" if code is None else labels.get(code, str(code))
