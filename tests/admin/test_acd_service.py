"""ACD matrix editing, voicemail streaming and the complaint/stock pages."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Agent, AgentSkill, Complaint, Skill, Voicemail

import factories


def _agent_and_skills(dbs):
    serial = factories.next_serial()
    agent = Agent(login=f"a{serial}", name=f"Agent {serial}", extension=str(5000 + serial), password_hash="!")
    skills = [Skill(name=f"skill{serial}-{i}") for i in range(2)]
    dbs.add_all([agent, *skills])
    dbs.commit()
    return agent, skills


def test_skill_matrix_sets_changes_and_clears_levels(auth, dbs):
    agent, (s1, s2) = _agent_and_skills(dbs)
    auth.login("supervisor")
    page = auth.client.get("/admin/skill_matrix/")
    assert f'name="level-{agent.id}-{s1.id}"' in page.text
    assert auth.post("/admin/skill_matrix/", {f"level-{agent.id}-{s1.id}": "7",
                                              f"level-{agent.id}-{s2.id}": "3"}).status_code == 302
    assert auth.post("/admin/skill_matrix/", {f"level-{agent.id}-{s1.id}": "9",
                                              f"level-{agent.id}-{s2.id}": ""}).status_code == 302
    dbs.reread()
    levels = dict(dbs.execute(select(AgentSkill.skill_id, AgentSkill.level).where(AgentSkill.agent_id == agent.id))
                  .all())
    assert levels == {s1.id: 9}


def test_skill_matrix_refuses_an_out_of_range_level_and_saves_nothing(auth, dbs):
    agent, (s1, s2) = _agent_and_skills(dbs)
    auth.login("admin")
    response = auth.post("/admin/skill_matrix/?lang=en", {f"level-{agent.id}-{s1.id}": "11",
                                                          f"level-{agent.id}-{s2.id}": "4"})
    assert response.status_code == 400 and "A level is a whole number from 1 to 10." in response.text
    dbs.reread()
    assert dbs.scalars(select(AgentSkill).where(AgentSkill.agent_id == agent.id)).first() is None


def test_skill_matrix_without_csrf_token_is_rejected(auth, dbs):
    agent, (s1, _) = _agent_and_skills(dbs)
    auth.login("admin")
    assert auth.client.post("/admin/skill_matrix/", data={f"level-{agent.id}-{s1.id}": "5"}).status_code == 400


def test_campaign_manager_cannot_open_the_skill_matrix(as_role):
    assert as_role("campaign").client.get("/admin/skill_matrix/").status_code == 403


def _voicemail(dbs, path):
    voicemail = Voicemail(audio_path=str(path), duration_seconds=1.0, caller="+8613800000000")
    dbs.add(voicemail)
    dbs.commit()
    return voicemail


def test_voicemail_audio_streams_from_the_recording_folder(auth, dbs, voicemail_dir):
    wav = voicemail_dir / f"vm{factories.next_serial()}.wav"
    wav.write_bytes(b"RIFF....WAVEfmt ")
    voicemail = _voicemail(dbs, wav)
    complaint = Complaint(category="service", channel="ivr", voicemail_id=voicemail.id)
    dbs.add(complaint)
    dbs.commit()
    auth.login("supervisor")
    listing = auth.client.get("/admin/complaints/?flt0_0=service").text
    assert f"/admin/voicemails/audio/{voicemail.id}" in listing and "<audio" in listing
    response = auth.client.get(f"/admin/voicemails/audio/{voicemail.id}")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.data.startswith(b"RIFF")
    response.close()


def test_voicemail_outside_the_recording_folders_is_not_served(auth, dbs, tmp_path):
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF")
    voicemail = _voicemail(dbs, outside)
    auth.login("admin")
    assert auth.client.get(f"/admin/voicemails/audio/{voicemail.id}").status_code == 404


def test_campaign_manager_cannot_listen_to_voicemail(as_role, dbs, voicemail_dir):
    wav = voicemail_dir / "cm.wav"
    wav.write_bytes(b"RIFF")
    voicemail = _voicemail(dbs, wav)
    assert as_role("campaign").client.get(f"/admin/voicemails/audio/{voicemail.id}").status_code == 403


def test_low_stock_rows_are_marked(auth, dbs):
    low = factories.make_product(dbs, stock=2, warning_level=5)
    fine = factories.make_product(dbs, stock=50, warning_level=5)
    dbs.commit()
    auth.login("admin")
    page = auth.client.get(f"/admin/stock/?search={low.sku}").text
    assert "low-stock" in page
    assert "low-stock" not in auth.client.get(f"/admin/stock/?search={fine.sku}").text.replace(
        "tr:has(.low-stock)", "")


def test_stock_edit_changes_only_the_warning_line(auth, dbs):
    product = factories.make_product(dbs, stock=4)
    dbs.commit()
    from crm_core.models import Stock

    stock = dbs.scalars(select(Stock).where(Stock.product_id == product.id)).one()
    auth.login("admin")
    assert 'name="on_hand"' not in auth.client.get(f"/admin/stock/edit/?id={stock.id}").text
    auth.post(f"/admin/stock/edit/?id={stock.id}", {"warning_level": "3", "on_hand": "999"})
    assert auth.post(f"/admin/stock/adjust/{stock.id}", {"delta": "6", "reason": "delivery"}).status_code == 302
    dbs.reread()
    stock = dbs.get(Stock, stock.id)
    assert (stock.on_hand, stock.warning_level) == (10, 3)
