"""The CRM gateway at shutdown: work that arrives after ``stop`` fails with a clear error, nothing hangs or crashes."""

from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy.orm import sessionmaker
from twisted.internet import reactor

from hotline.db_gateway import ThreadPoolGateway
from ivr.crm_gateway import CrmGateway


@pytest_twisted.ensureDeferred
async def test_work_after_stop_fails_cleanly_and_a_second_stop_is_harmless(engine):
    gateway = CrmGateway(ThreadPoolGateway(sessionmaker(bind=engine), reactor, max_threads=2))
    assert await gateway.run(lambda session: 41 + 1) == 42
    gateway.stop()
    with pytest.raises(RuntimeError, match="gateway stopped"):
        await gateway.run(lambda session: 1)
    late = gateway.log_interaction(call_uuid="call-1", customer_id=None, address="13800000000",
                                   summary="after stop", detail={})
    with pytest.raises(RuntimeError):  # a late interaction write fails the same way, not inside the pool
        await late
    gateway.stop()
