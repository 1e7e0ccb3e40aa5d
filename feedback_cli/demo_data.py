"""A handful of demo submissions so every counter's queue has fresh cases at `make run`.

Ids are derived from a fixed namespace, so seeding twice stores nothing new. The volume
(a quarter of ratings and handled complaints) comes from the demo district,
``feedback_cli.demo``, which `make run` stores first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid5

from feedback_core.identity import NAMESPACE
from feedback_core.intake import Channel, ComplaintCategory, IntakeSubmission
from feedback_core.organisation import Organisation

_COMPLAINTS = [
    (ComplaintCategory.DELAY, "Hồ sơ đăng ký khai sinh hẹn 3 ngày nhưng đến nay chưa có kết quả."),
    (ComplaintCategory.SECOND_TRIP, "Phải đi lại 3 lần vì mỗi lần cán bộ yêu cầu thêm giấy tờ."),
    (ComplaintCategory.ATTITUDE, "Cán bộ tiếp nhận trả lời cộc lốc, không hướng dẫn rõ ràng."),
    (ComplaintCategory.HARASSMENT, "Có người gợi ý nộp thêm tiền để giải quyết nhanh hơn."),
    (ComplaintCategory.FACILITIES, "Phòng chờ không đủ ghế, máy lấy số thứ tự bị hỏng."),
    (ComplaintCategory.WRONG_PROCEDURE, "Yêu cầu bản sao công chứng dù đã xuất trình bản chính."),
]


def demo_submissions(organisation: Organisation, now: datetime) -> list[IntakeSubmission]:
    """Two ratings and one complaint per counter, spread over the last twelve days."""
    found: list[IntakeSubmission] = []
    for n, (unit, office, counter) in enumerate(organisation.iter_counters()):
        for k in range(3):
            category, text = _COMPLAINTS[(n + k) % len(_COMPLAINTS)]
            with_complaint = k == 0
            found.append(
                IntakeSubmission(
                    submission_id=uuid5(NAMESPACE, f"demo:{counter.id}:{k}"),
                    channel=Channel.QR,
                    unit_id=unit.id,
                    office_id=office.id,
                    counter_id=counter.id,
                    submitted_at=now - timedelta(days=(n * 3 + k * 5) % 12, hours=k),
                    rating=2 if with_complaint else 4 + k % 2,
                    description=text if with_complaint else "",
                    category=category if with_complaint else None,
                )
            )
    return found
