"""What citizens write, per complaint category, and what handlers answer (Vietnamese)."""

from __future__ import annotations

from feedback_core.intake import ComplaintCategory

COMPLAINTS: dict[ComplaintCategory, tuple[str, ...]] = {
    ComplaintCategory.DELAY: (
        "Hồ sơ đăng ký khai sinh hẹn 3 ngày nhưng đến nay chưa có kết quả.",
        "Đã quá hạn trả kết quả chứng thực năm ngày làm việc nhưng chưa nhận được thông báo.",
        "Hẹn trả giấy chứng nhận quyền sử dụng đất nhưng đến nơi vẫn chưa có.",
        "Hồ sơ xác nhận tình trạng hôn nhân nộp trực tuyến hơn một tuần chưa được xử lý.",
        "Giấy hẹn ghi trả kết quả hôm nay nhưng cán bộ bảo tuần sau quay lại.",
    ),
    ComplaintCategory.SECOND_TRIP: (
        "Phải đi lại 3 lần vì mỗi lần cán bộ yêu cầu thêm một loại giấy tờ.",
        "Cán bộ hướng dẫn mỗi lần một khác, tôi phải bổ sung hồ sơ nhiều lần.",
        "Tôi nộp hồ sơ trực tuyến nhưng vẫn bị yêu cầu mang bản giấy đến nộp lại.",
        "Quầy đóng cửa sớm hơn giờ niêm yết, tôi phải về và quay lại hôm sau.",
    ),
    ComplaintCategory.ATTITUDE: (
        "Cán bộ tiếp nhận trả lời cộc lốc, không hướng dẫn rõ ràng.",
        "Cán bộ nói chuyện điện thoại riêng trong khi đang tiếp công dân.",
        "Tôi hỏi lại thủ tục thì bị cán bộ lớn tiếng, thái độ thiếu tôn trọng.",
        "Không được giải thích lý do từ chối hồ sơ, cán bộ bảo tự tìm hiểu.",
    ),
    ComplaintCategory.HARASSMENT: (
        "Có người gợi ý nộp thêm tiền để giải quyết nhanh hơn.",
        "Cán bộ đề nghị dùng dịch vụ làm hồ sơ hộ có thu phí.",
        "Bị yêu cầu nộp thêm giấy tờ không có trong quy định của thủ tục.",
    ),
    ComplaintCategory.WRONG_PROCEDURE: (
        "Yêu cầu bản sao công chứng dù đã xuất trình bản chính.",
        "Phí sao y bản chính thu cao hơn mức niêm yết, không có biên lai.",
        "Thông tin thủ tục trên cổng dịch vụ công khác với hướng dẫn tại quầy.",
        "Kết quả trả về ghi sai tên đệm, phải làm lại từ đầu.",
    ),
    ComplaintCategory.FACILITIES: (
        "Phòng chờ không đủ ghế, máy lấy số thứ tự bị hỏng.",
        "Nhà vệ sinh khu một cửa hỏng nhiều ngày chưa sửa.",
        "Bãi để xe chật, bảo vệ thu tiền gửi xe.",
        "Điều hòa phòng chờ không hoạt động, rất nóng.",
        "Đèn chiếu sáng ngõ trước trụ sở phường hỏng đã lâu.",
    ),
    ComplaintCategory.OTHER: (
        "Không có người hướng dẫn điền tờ khai, biểu mẫu hết.",
        "Đề nghị bố trí thêm quầy làm việc buổi chiều, thời gian chờ quá lâu.",
        "Rác thải tập kết bừa bãi trên vỉa hè gần chợ.",
        "Đề nghị niêm yết công khai số điện thoại đường dây nóng của phường.",
    ),
}

# Hotline callers and Open311 apps report more about the neighbourhood than the counter.
OUTSIDE_CATEGORY_WEIGHTS: dict[ComplaintCategory, int] = {
    ComplaintCategory.DELAY: 20,
    ComplaintCategory.SECOND_TRIP: 8,
    ComplaintCategory.ATTITUDE: 10,
    ComplaintCategory.HARASSMENT: 4,
    ComplaintCategory.WRONG_PROCEDURE: 8,
    ComplaintCategory.FACILITIES: 30,
    ComplaintCategory.OTHER: 20,
}
COUNTER_CATEGORY_WEIGHTS: dict[ComplaintCategory, int] = {
    ComplaintCategory.DELAY: 26,
    ComplaintCategory.SECOND_TRIP: 18,
    ComplaintCategory.ATTITUDE: 18,
    ComplaintCategory.HARASSMENT: 5,
    ComplaintCategory.WRONG_PROCEDURE: 15,
    ComplaintCategory.FACILITIES: 12,
    ComplaintCategory.OTHER: 6,
}

ANSWERS = (
    "Đơn vị đã kiểm tra, trả kết quả hồ sơ và xin lỗi công dân vì sự chậm trễ.",
    "Đã nhắc nhở cán bộ liên quan và hướng dẫn lại đầy đủ thủ tục cho công dân.",
    "Đã khắc phục cơ sở vật chất tại Bộ phận Một cửa.",
    "Đã làm việc với công dân, giải thích quy định và thống nhất cách giải quyết.",
    "Đã chuyển bộ phận chuyên môn xử lý và thông báo kết quả cho công dân.",
)
QUESTIONS = (
    "Đề nghị công dân cung cấp mã hồ sơ trên giấy hẹn.",
    "Đề nghị công dân cho biết thời gian và quầy đã đến làm thủ tục.",
    "Đề nghị công dân cung cấp địa chỉ cụ thể nơi phản ánh.",
)
REPLIES = (
    "Công dân đã cung cấp mã hồ sơ qua điện thoại.",
    "Công dân đã bổ sung thông tin tại Bộ phận Một cửa.",
)
REFUSALS = (
    "Nội dung không thuộc thẩm quyền giải quyết của đơn vị; đã hướng dẫn công dân.",
    "Nội dung trùng với phản ánh đã được giải quyết trước đó.",
)
TRANSFERS = ("Địa điểm phản ánh thuộc địa bàn phường khác.",)
REOPENINGS = ("Công dân chưa đồng ý với kết quả giải quyết.",)
EXTENSIONS = ("Vụ việc phức tạp, cần phối hợp với đơn vị khác.",)
WITHDRAWALS = ("Công dân rút phản ánh vì đã được giải quyết trực tiếp.",)
STREETS = (
    "Xuân Diệu",
    "Lạc Long Quân",
    "Âu Cơ",
    "Thụy Khuê",
    "Yên Phụ",
    "Tô Ngọc Vân",
    "Đặng Thai Mai",
    "Quảng Khánh",
    "Nhật Chiêu",
    "Võng Thị",
    "Phú Xá",
    "An Dương Vương",
)
