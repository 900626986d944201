"""The preview desk releases a contact held too long (deterministic: the rig's task.Clock), and refuses what is
not the agent's."""

from __future__ import annotations

import pytest
import pytest_twisted

from acd.dialer.preview import PreviewDesk, PreviewError
from crm_core.models import CampaignAttempt
from dialer_rig import finish, make
from test_dialer_sim import contact_of, numbers


class Everyone:
    """Every agent works on every campaign; reservations are not exercised here."""

    def works_on(self, agent_id, campaign_id):
        return True

    def reserve(self, agent_id, call_uuid):
        raise AssertionError("not dialled in this test")

    def release(self, call_uuid):
        return None


@pytest.fixture
def rig(tmp_path, db_session):
    made = make(tmp_path, db_session)
    yield made
    finish(made)


@pytest_twisted.ensureDeferred
async def test_a_preview_contact_neither_dialled_nor_skipped_is_released(rig, factories, db_session):
    dialer = await rig.start(agents=1)
    desk = PreviewDesk(rig.clock, dialer.gateway, dialer, Everyone(), release_after=600.0)
    [number] = numbers(factories, 1)
    campaign = rig.campaign([number], mode="preview")
    card = await desk.next(5)
    assert card["number"] == number and desk.held() == {card["attempt_id"]: 5}
    with pytest.raises(PreviewError):
        await desk.skip(6, card["attempt_id"], "later")  # not agent 6's contact
    await rig.run(599)
    assert db_session.get(CampaignAttempt, card["attempt_id"]).ended_at is None
    await rig.run(2)
    db_session.expire_all()
    attempt = db_session.get(CampaignAttempt, card["attempt_id"])
    assert attempt.ended_at is not None and attempt.hangup_cause == "PREVIEW_TIMEOUT" and desk.held() == {}
    contact = contact_of(db_session, campaign.id, number)
    assert contact.status == "pending" and contact.attempts == 0  # the try is not counted
    assert rig.dialled() == []  # a preview campaign is never dialled by the loop
