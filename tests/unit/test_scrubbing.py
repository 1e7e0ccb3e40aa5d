from feedback_cli.scrubbing import FILTERED, scrub_event


def test_personal_data_never_reaches_sentry() -> None:
    event = {
        "message": "failed for 0912 345 678 and lan@example.vn",
        "request": {"data": {"description": "Cán bộ đòi tiền"}, "url": "/q/x"},
        "extra": {"contact": "0988123456", "count": 3},
    }
    scrubbed = scrub_event(event, {})
    assert "0912" not in str(scrubbed) and "example.vn" not in str(scrubbed)
    assert "đòi tiền" not in str(scrubbed)
    assert scrubbed["request"]["data"] == FILTERED
    assert scrubbed["extra"]["count"] == 3
    assert scrubbed["request"]["url"] == "/q/x"
