"""Vietnamese labels (the msgids) for the codes the domain uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from feedback_core.cases import CaseStatus
from feedback_core.intake import Channel, ComplaintCategory, SipasComponent
from feedback_core.permissions import Action
from feedback_core.roles import Role
from web.i18n import N_

K = TypeVar("K")

RATING_LABELS: dict[int, str] = {
    1: N_("Rất không hài lòng"),
    2: N_("Không hài lòng"),
    3: N_("Bình thường"),
    4: N_("Hài lòng"),
    5: N_("Rất hài lòng"),
}

# The five SIPAS components as the QR form asks them (the dashboard has shorter names).
SIPAS_QUESTION_LABELS: dict[str, str] = {
    SipasComponent.ACCESS: N_("Tiếp cận thông tin về thủ tục"),
    SipasComponent.PROCEDURES: N_("Thủ tục hành chính"),
    SipasComponent.OFFICERS: N_("Thái độ và năng lực của cán bộ"),
    SipasComponent.RESULTS: N_("Kết quả và thời gian giải quyết"),
    SipasComponent.FEEDBACK: N_("Tiếp nhận, xử lý góp ý, phản ánh"),
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

CHANNEL_LABELS: dict[str, str] = {
    Channel.QR: N_("Mã QR tại quầy"),
    Channel.HOTLINE: N_("Đường dây nóng"),
    Channel.OPEN311: N_("Ứng dụng (Open311)"),
    Channel.KIOSK: N_("Ki-ốt đánh giá"),
    Channel.PAPER: N_("Phiếu giấy"),
    Channel.ZALO: N_("Zalo"),
}

STATUS_LABELS: dict[str, str] = {
    "rated": N_("Đã ghi nhận đánh giá"),
    CaseStatus.RECEIVED: N_("Đã tiếp nhận"),
    CaseStatus.ACCEPTED: N_("Đã thụ lý"),
    CaseStatus.REFUSED: N_("Không thụ lý"),
    CaseStatus.IN_PROGRESS: N_("Đang xử lý"),
    CaseStatus.WAITING_FOR_CITIZEN: N_("Chờ công dân bổ sung"),
    CaseStatus.ANSWERED: N_("Đã trả lời"),
    CaseStatus.RESOLVED: N_("Đã giải quyết"),
    CaseStatus.CLOSED: N_("Đã kết thúc"),
    CaseStatus.WITHDRAWN: N_("Đã rút"),
    CaseStatus.MERGED: N_("Đã gộp vào phản ánh khác"),
}

# The open states a handler can filter the queue by (closed ones are not in the queue).
OPEN_STATES = (
    CaseStatus.RECEIVED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING_FOR_CITIZEN,
    CaseStatus.ANSWERED,
    CaseStatus.RESOLVED,
)

ROLE_LABELS: dict[str, str] = {
    Role.OPERATOR: N_("Tổng đài viên"),
    Role.HANDLER: N_("Cán bộ xử lý"),
    Role.HEAD: N_("Lãnh đạo"),
    Role.INSPECTOR: N_("Thanh tra"),
    Role.ADMIN: N_("Quản trị hệ thống"),
}

# The button of each step (what the officer does).
ACTION_LABELS: dict[str, str] = {
    Action.ACCEPT: N_("Thụ lý"),
    Action.REFUSE: N_("Từ chối thụ lý"),
    Action.ASSIGN: N_("Giao xử lý"),
    Action.CLAIM: N_("Nhận xử lý"),
    Action.START: N_("Bắt đầu xử lý"),
    Action.ASK_CITIZEN: N_("Đề nghị công dân bổ sung"),
    Action.RECORD_REPLY: N_("Ghi nhận trả lời của công dân"),
    Action.ANSWER: N_("Trả lời công dân"),
    Action.RESOLVE: N_("Xác nhận đã giải quyết"),
    Action.CLOSE: N_("Kết thúc phản ánh"),
    Action.NOTE: N_("Ghi chú nội bộ"),
    Action.TRANSFER: N_("Chuyển đơn vị khác"),
    Action.ACCEPT_TRANSFER: N_("Nhận phản ánh chuyển đến"),
    Action.RETURN_TRANSFER: N_("Trả lại"),
    Action.ESCALATE: N_("Báo cáo lãnh đạo"),
    Action.WITHDRAW: N_("Ghi nhận công dân rút phản ánh"),
    Action.REOPEN: N_("Mở lại"),
    Action.EXTEND: N_("Gia hạn"),
    Action.MERGE: N_("Gộp vào phản ánh khác"),
}

# What each timeline row records (the projection's ``kind``).
TIMELINE_LABELS: dict[str, str] = {
    "received": N_("Tiếp nhận phản ánh"),
    "accepted": N_("Đã thụ lý"),
    "refused": N_("Không thụ lý"),
    "assigned": N_("Phân công xử lý"),
    "in_progress": N_("Đã bắt đầu xử lý"),
    "citizen_asked": N_("Đề nghị công dân bổ sung thông tin"),
    "citizen_replied": N_("Công dân trả lời"),
    "answered": N_("Đã trả lời công dân"),
    "resolved": N_("Đã giải quyết"),
    "closed": N_("Đã kết thúc"),
    "note": N_("Ghi chú"),
    "transfer_requested": N_("Đề nghị chuyển đơn vị"),
    "transferred": N_("Chuyển đơn vị xử lý"),
    "transfer_returned": N_("Đơn vị nhận trả lại đề nghị chuyển"),
    "escalated": N_("Đã báo cáo lãnh đạo"),
    "withdrawn": N_("Công dân rút phản ánh"),
    "reopened": N_("Đã mở lại"),
    "citizen_confirmed": N_("Công dân xác nhận đã được giải quyết"),
    "extended": N_("Gia hạn đến"),
    "merged": N_("Gộp vào phản ánh"),
    "absorbed": N_("Gộp phản ánh trùng"),
}

ASSIGNMENT_LABELS: dict[str, str] = {
    "assigned": N_("Giao cho"),
    "claimed": N_("Nhận xử lý:"),
    "reassigned": N_("Giao lại cho"),
}


def label(labels: Mapping[K, str], code: K | None) -> str:
    """The msgid for a code, or the code itself when a newer core sends one we do not know."""
    return "" if code is None else labels.get(code, str(code))

# Levels of the organisation tree (feedback_core.org.rules.LEVEL_RANK).
LEVEL_LABELS: dict[str, str] = {
    "city": N_("Thành phố"),
    "district": N_("Quận, huyện"),
    "ward": N_("Phường"),
    "commune": N_("Xã"),
    "office": N_("Bộ phận Một cửa"),
}

# What each recorded change of a unit was (the event's class name, as unit_history gives it).
UNIT_CHANGE_LABELS: dict[str, str] = {
    "Created": N_("Thành lập"),
    "Renamed": N_("Đổi tên"),
    "Moved": N_("Chuyển trực thuộc"),
    "HeadAppointed": N_("Giao người đứng đầu"),
    "HeadVacated": N_("Người đứng đầu thôi nhiệm vụ"),
    "MergedInto": N_("Sáp nhập vào đơn vị khác"),
    "Closed": N_("Giải thể, ngừng hoạt động"),
}
