"""The Zalo OA channel against a local server speaking the send API's formats: accepted,
refused for good (invalid token, not a follower), refused for now (rate limit, HTTP 503)."""

from __future__ import annotations

import pytest

from consumers.channels import ChannelError, PermanentChannelError, ZaloOaChannel
from consumers.notices import Recipient, render
from feedback_core.zalo_config import load_zalo_oas
from tests.integration.test_notifier_channels import run_async
from tests.support.zalo_oa import FOLLOWER, OA_ID, oa_config, zalo_api_server
from tests.unit.test_notices import BASE, sample_notice

pytestmark = pytest.mark.integration

FOLLOWER_ADDRESS = Recipient(zalo=f"{OA_ID}:{FOLLOWER}")


def test_the_channel_sends_through_the_oa_of_the_address_and_classifies_refusals() -> None:
    message = render(sample_notice(), BASE)
    with zalo_api_server() as api:
        channel = ZaloOaChannel(load_zalo_oas(oa_config(api.base_url)))
        assert channel.can_reach(FOLLOWER_ADDRESS)
        assert not channel.can_reach(Recipient(zalo=f"1234:{FOLLOWER}"))
        assert not channel.can_reach(Recipient(phone="0912345678"))
        assert channel.address(FOLLOWER_ADDRESS) == f"{OA_ID}:{FOLLOWER}"

        run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))
        [sent] = api.received
        assert sent["user_id"] == FOLLOWER and sent["text"] == message.body

        api.not_followers.add(FOLLOWER)
        with pytest.raises(PermanentChannelError, match="-213"):
            run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))
        api.not_followers.clear()
        api.tokens.clear()  # the token was revoked
        with pytest.raises(PermanentChannelError, match="-216"):
            run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))
        api.fail_next.extend([
            (200, {"error": -32, "message": "Exceeded the rate limit"}),
            (503, {"error": 503, "message": "unavailable"}),
        ])  # fmt: skip
        for _ in range(2):
            with pytest.raises(ChannelError) as caught:
                run_async(lambda: channel.send(FOLLOWER_ADDRESS, message))
            assert not isinstance(caught.value, PermanentChannelError)
        assert len(api.received) == 1
