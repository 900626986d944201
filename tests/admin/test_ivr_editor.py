"""The IVR editor through the Flask test client: permissions, CSRF, the tree with validation messages, inline
edits, publish (refused when invalid), history, YAML export/import, "listen" audio and recording uploads."""

from __future__ import annotations

import io
import re
import uuid
import wave

import pytest
import yaml
from sqlalchemy import select

from admin.audit import AuditEntry
from ivr.menu import load_yaml
from ivr.menu.store import save_draft

MENU = """
name: {name}
entry: main
languages: [zh, en]
default_language: zh
nodes:
  main:
    type: menu
    text: {{zh: 查询请按一，人工请按零。, en: For news press 1. For an agent press 0.}}
    options:
      "1": {{target: news, label: news, keywords: {{zh: [新闻], en: [news]}}}}
      "0": {{target: bye, label: agent}}
  news:
    type: announcement
    text: {{zh: 全国包邮。, en: Free delivery nationwide.}}
    next: main
  bye: {{type: hangup, text: {{zh: 再见。, en: Goodbye.}}}}
"""


@pytest.fixture(scope="module", autouse=True)
def audio_dirs(app, tmp_path_factory):
    """TTS cache and uploaded recordings in temporary folders (never the repository's prompts/recordings)."""
    from admin.views.ivr_audio import BUILDER_KEY

    cache, overrides = tmp_path_factory.mktemp("tts"), tmp_path_factory.mktemp("recordings")
    app.config.update(TTS_CACHE_DIR=str(cache), PROMPT_OVERRIDES_DIR=str(overrides), TTS_ENGINE="espeak-ng")
    app.extensions.pop(BUILDER_KEY, None)
    yield cache, overrides
    app.extensions.pop(BUILDER_KEY, None)


@pytest.fixture
def menu_name(dbs):
    """A fresh valid menu saved as a draft, by a unique name."""
    name = f"m{uuid.uuid4().hex[:10]}"
    save_draft(dbs, load_yaml(MENU.format(name=name)), by="fixture")
    dbs.commit()
    return name


def english(auth):
    """Messages in English for this client's session (redirects carry no ?lang=)."""
    auth.client.get("/admin/?lang=en")
    return auth


@pytest.fixture
def admin_auth(as_role):
    return english(as_role("admin"))


def page(auth, name):
    response = auth.client.get(f"/admin/ivr_editor/?menu={name}&lang=en")
    assert response.status_code == 200
    return response.text


def node_block(html: str, node_id: str) -> str:
    """The HTML of one node's <li> up to its first child list (its own head, problems and editor)."""
    start = html.index(f'id="node-{node_id}"')
    end = html.find('<ul class="ivr-children">', start)
    return html[start:end if end != -1 else None]


# -- permissions and CSRF ---------------------------------------------------------------------

@pytest.mark.parametrize("username,status", [("admin", 200), ("supervisor", 200), ("campaign", 403), ("agent", 403)])
def test_editor_opens_for_admin_and_supervisor_only(as_role, menu_name, username, status):
    auth = as_role(username)
    assert auth.client.get(f"/admin/ivr_editor/?menu={menu_name}").status_code == status
    response = auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "main", "text-zh": "x"})
    assert response.status_code == (302 if status == 200 else 403)
    listen = auth.client.get(f"/admin/ivr_editor/listen?menu={menu_name}&node=main&lang=zh")
    assert listen.status_code == status


def test_anonymous_visitor_gets_the_login_page(client, menu_name):
    for url in (f"/admin/ivr_editor/?menu={menu_name}", f"/admin/ivr_editor/listen?menu={menu_name}&node=main",
                "/admin/test_call/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", ["node", "node/add", "node/delete", "option", "option/delete", "hours", "new",
                                  "publish", "import", "recording"])
def test_every_editor_post_without_csrf_token_is_refused(admin_auth, menu_name, path):
    response = admin_auth.client.post(f"/admin/ivr_editor/{path}", data={"menu": menu_name, "node_id": "main"})
    assert response.status_code == 400
    assert "CSRF" in response.text or "csrf" in response.text.lower()


# -- the tree and validation ------------------------------------------------------------------

def test_tree_shows_nodes_options_as_edges_and_no_problems_for_a_valid_menu(admin_auth, menu_name):
    html = page(admin_auth, menu_name)
    assert 'id="problem-count"' in html and ">valid<" in html
    main = node_block(html, "main")
    assert "查询请按一" in main and "For news press 1." in main
    tree = html[html.index('id="ivr-tree"'):]
    # options are edges: key badge then the child node nested under main
    assert re.search(r'ivr-key[^>]*>1</span> →\s*<strong class="ivr-node-id">news', tree)
    assert tree.index('id="node-main"') < tree.index('id="node-news"') < tree.index('id="node-bye"')
    # news goes back to main: drawn as a link, not a second copy
    assert 'href="#node-main"' in tree


def test_broken_menu_shows_each_problem_next_to_its_node_and_publish_is_refused(admin_auth, menu_name, dbs):
    response = admin_auth.post("/admin/ivr_editor/option", {
        "menu": menu_name, "node_id": "main", "old_key": "", "key": "2", "target": "nowhere"})
    assert response.status_code == 302
    admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "news", "text-en": ""})
    html = page(admin_auth, menu_name)
    assert "2 problem(s)" in html
    assert "option 2 goes to missing node &#39;nowhere&#39;" in node_block(html, "main")
    assert "missing node nowhere" in html  # the dangling edge is drawn as such
    assert "&#39;en&#39;" in node_block(html, "news") and "ivr-problem" in node_block(html, "news")
    assert "ivr-problem" not in node_block(html, "bye")

    refused = admin_auth.post("/admin/ivr_editor/publish", {"menu": menu_name}, follow_redirects=True)
    assert "Not published: the draft has 2 problem(s)." in refused.text
    from ivr.menu.store import history

    dbs.reread()
    assert [v.status for v in history(dbs, menu_name)] == ["draft"]


def test_edit_node_text_then_publish_makes_a_new_version_with_who_and_when(admin_auth, menu_name, dbs):
    response = admin_auth.post("/admin/ivr_editor/node", {
        "menu": menu_name, "node_id": "main", "prompt": "", "text-zh": "新的欢迎词，请按一。",
        "text-en": "New welcome, press 1.", "other": "timeout: 7.0"}, follow_redirects=True)
    assert "Draft saved." in response.text
    published = admin_auth.post("/admin/ivr_editor/publish", {"menu": menu_name}, follow_redirects=True)
    assert "Version 1 published" in published.text
    assert re.search(r'<tr data-version="1" data-status="published">\s*<td>1</td><td>published</td><td>admin</td>',
                     published.text)
    assert 'id="published-version">1<' in published.text

    from ivr.menu.store import published as load_published

    dbs.reread()
    menu = load_published(dbs, menu_name).definition
    assert menu.nodes["main"].text["zh"] == "新的欢迎词，请按一。" and menu.nodes["main"].timeout == 7.0
    # the next edit starts draft 2; publishing it retires 1
    admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "bye", "text-en": "Bye now."})
    admin_auth.post("/admin/ivr_editor/publish", {"menu": menu_name})
    html = page(admin_auth, menu_name)
    assert 'data-version="2" data-status="published"' in html and 'data-version="1" data-status="retired"' in html
    dbs.reread()
    actions = dbs.scalars(select(AuditEntry.action).where(AuditEntry.changes["menu"].as_string() == menu_name)
                          .order_by(AuditEntry.id)).all()
    assert actions == ["ivr-node", "ivr-publish", "ivr-node", "ivr-publish"]


def test_options_and_nodes_added_and_removed(admin_auth, menu_name, dbs):
    from ivr.menu.store import draft_definition

    admin_auth.post("/admin/ivr_editor/node/add", {"menu": menu_name, "node_id": "promo", "kind": "announcement",
                                                   "parent": "main", "key": "3"})
    admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "promo", "text-zh": "双十一特价。",
                                               "text-en": "Singles' Day offers.", "next": "main"})
    admin_auth.post("/admin/ivr_editor/option", {"menu": menu_name, "node_id": "main", "old_key": "1", "key": "4",
                                                 "target": "news", "label": "news", "keywords-zh": "新闻，消息",
                                                 "keywords-en": "news, updates"})
    dbs.reread()
    menu = draft_definition(dbs, menu_name)
    assert list(menu.nodes["main"].options) == ["4", "0", "3"]
    assert menu.nodes["main"].options["4"].keywords == {"zh": ("新闻", "消息"), "en": ("news", "updates")}
    assert menu.nodes["promo"].next == "main"

    duplicate = admin_auth.post("/admin/ivr_editor/option", {"menu": menu_name, "node_id": "main", "old_key": "",
                                                             "key": "0", "target": "bye"}, follow_redirects=True)
    assert "already has an option" in duplicate.text
    admin_auth.post("/admin/ivr_editor/option/delete", {"menu": menu_name, "node_id": "main", "key": "4"})
    admin_auth.post("/admin/ivr_editor/node/delete", {"menu": menu_name, "node_id": "promo"})
    entry = admin_auth.post("/admin/ivr_editor/node/delete", {"menu": menu_name, "node_id": "main"},
                            follow_redirects=True)
    assert "is the entry of the menu" in entry.text
    dbs.reread()
    menu = draft_definition(dbs, menu_name)
    assert "promo" not in menu.nodes and list(menu.nodes["main"].options) == ["0"]
    assert "news" in menu.nodes  # now unreachable: validation says so
    assert "is unreachable" in node_block(page(admin_auth, menu_name), "news")


def test_bad_other_fields_are_refused_with_the_reason_and_nothing_saved(admin_auth, menu_name, dbs):
    from ivr.menu.store import draft_definition

    response = admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "main",
                                                          "other": "timeout: soon"}, follow_redirects=True)
    assert "Not saved" in response.text and "expected a number" in response.text
    dbs.reread()
    assert draft_definition(dbs, menu_name).nodes["main"].timeout == 5.0


def test_announcement_schedule_and_business_hours_are_edited_and_validated(admin_auth, menu_name, dbs):
    from ivr.menu.store import draft_definition

    admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "news", "text-zh": "国庆特卖。",
                                               "text-en": "National Day sale.", "valid_from": "2026-10-01",
                                               "valid_to": "2026-09-01"})
    assert "valid_to is not after valid_from" in node_block(page(admin_auth, menu_name), "news")
    admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "news", "valid_to": "2026-10-07"})
    hours = {"menu": menu_name, "enabled": "1", "timezone": "Asia/Shanghai", "hours-mon": "08:00-12:00, 13:00-22:00",
             "hours-sat": "09:00-18:00", "holidays": "2026-10-01\n2026-10-02", "after_hours": "bye"}
    assert admin_auth.post("/admin/ivr_editor/hours", hours).status_code == 302
    bad = admin_auth.post("/admin/ivr_editor/hours", {**hours, "hours-sun": "nine to five"}, follow_redirects=True)
    assert "Not saved" in bad.text and "is not a span like 09:00-21:00" in bad.text
    dbs.reread()
    menu = draft_definition(dbs, menu_name)
    news = menu.nodes["news"]
    assert (news.valid_from, news.valid_to, news.text["zh"]) == ("2026-10-01", "2026-10-07", "国庆特卖。")
    import datetime as dt

    assert news.in_schedule(dt.datetime(2026, 10, 7, 15, tzinfo=dt.timezone.utc))  # 23:00 in Shanghai
    assert not news.in_schedule(dt.datetime(2026, 10, 7, 17, tzinfo=dt.timezone.utc))  # Oct 8, 01:00
    bh = menu.business_hours
    assert bh.after_hours == "bye" and len(bh.weekly["mon"]) == 2 and "sun" not in bh.weekly
    assert [d.isoformat() for d in bh.holidays] == ["2026-10-01", "2026-10-02"]
    html = page(admin_auth, menu_name)
    assert 'value="08:00-12:00, 13:00-22:00"' in html and "2026-10-02" in html
    assert 'class="card card-body py-2 mb-2 ivr-announcement" data-node="news"' in html


# -- YAML -------------------------------------------------------------------------------------

def test_yaml_export_then_upload_round_trips_the_menu(admin_auth, menu_name, dbs):
    exported = admin_auth.client.get(f"/admin/ivr_editor/export?menu={menu_name}")
    assert exported.status_code == 200 and exported.mimetype == "application/x-yaml"
    assert f'filename="{menu_name}.yaml"' in exported.headers["Content-Disposition"]
    data = yaml.safe_load(exported.text)
    copy = f"{menu_name}c"
    data["name"] = copy
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")
    response = admin_auth.post("/admin/ivr_editor/import", {"menu": menu_name,
                                                            "file": (io.BytesIO(text), "copy.yaml")},
                               content_type="multipart/form-data", follow_redirects=True)
    assert f"Imported as the draft of {copy}" in response.text
    again = yaml.safe_load(admin_auth.client.get(f"/admin/ivr_editor/export?menu={copy}").text)
    assert again == data
    from ivr.menu.store import draft_definition

    dbs.reread()
    import dataclasses

    assert dataclasses.replace(draft_definition(dbs, copy), name=menu_name) == draft_definition(dbs, menu_name)


def test_yaml_upload_with_an_unknown_field_is_refused_naming_the_node(admin_auth, menu_name):
    broken = MENU.format(name=menu_name).replace("next: main", "next: main\n    colour: red").encode()
    response = admin_auth.post("/admin/ivr_editor/import", {"menu": menu_name, "file": (io.BytesIO(broken), "x.yaml")},
                               content_type="multipart/form-data", follow_redirects=True)
    assert "Not imported" in response.text and "node &#39;news&#39;: unknown field(s) colour" in response.text


# -- audio ------------------------------------------------------------------------------------

def _wav(rate: int = 16000, channels: int = 2, seconds: float = 0.3) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * int(rate * seconds) * channels)
    return buffer.getvalue()


def test_listen_renders_the_node_text_as_8khz_wav(admin_auth, menu_name):
    response = admin_auth.client.get(f"/admin/ivr_editor/listen?menu={menu_name}&node=news&lang=en")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    with wave.open(io.BytesIO(response.data)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1) and w.getnframes() > 4000
    catalogue = admin_auth.client.get("/admin/ivr_editor/listen?prompt=main_menu&lang=zh")
    assert catalogue.status_code == 200 and catalogue.data[:4] == b"RIFF"
    missing = admin_auth.client.get(f"/admin/ivr_editor/listen?menu={menu_name}&node=nope&lang=en")
    assert missing.status_code == 404


def test_recording_upload_refuses_non_wav_and_installs_a_converted_wav(admin_auth, menu_name, audio_dirs):
    _, overrides = audio_dirs
    refused = admin_auth.post("/admin/ivr_editor/recording", {
        "menu": menu_name, "prompt": "main_menu", "lang": "zh",
        "file": (io.BytesIO(b"ID3\x03 not audio at all"), "song.mp3")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Recording refused: not a WAV file" in refused.text
    assert not (overrides / "zh" / "main_menu.wav").exists()
    truncated = admin_auth.post("/admin/ivr_editor/recording", {
        "menu": menu_name, "prompt": "main_menu", "lang": "zh", "file": (io.BytesIO(_wav()[:40]), "cut.wav")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Recording refused" in truncated.text and not (overrides / "zh" / "main_menu.wav").exists()
    unknown = admin_auth.post("/admin/ivr_editor/recording", {
        "menu": menu_name, "prompt": "../../etc", "lang": "zh", "file": (io.BytesIO(_wav()), "a.wav")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "is not in the catalogue" in unknown.text

    ok = admin_auth.post("/admin/ivr_editor/recording", {
        "menu": menu_name, "prompt": "main_menu", "lang": "zh", "file": (io.BytesIO(_wav()), "studio.wav")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Recording for main_menu (zh) installed: 0.3 s." in ok.text
    assert (overrides / "zh" / "main_menu.wav").is_file()
    played = admin_auth.client.get("/admin/ivr_editor/listen?prompt=main_menu&lang=zh")
    with wave.open(io.BytesIO(played.data)) as w:  # the override, converted to 8 kHz mono
        assert (w.getframerate(), w.getnchannels()) == (8000, 1)
        assert abs(w.getnframes() / 8000 - 0.3) < 0.02


def test_supervisor_can_edit_and_publish_too(as_role, menu_name):
    supervisor = english(as_role("supervisor"))
    supervisor.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "bye", "text-zh": "谢谢，再见。"})
    response = supervisor.post("/admin/ivr_editor/publish", {"menu": menu_name}, follow_redirects=True)
    assert "Version 1 published" in response.text
    assert re.search(r'data-status="published">\s*<td>1</td><td>published</td><td>supervisor</td>', response.text)


def test_new_menu_starts_a_draft_and_unknown_menu_says_so(admin_auth):
    name = f"n{uuid.uuid4().hex[:8]}"
    assert "There is no menu named" in page(admin_auth, name)
    admin_auth.post("/admin/ivr_editor/new", {"menu": name})
    html = page(admin_auth, name)
    assert 'id="node-main"' in html and "problem(s)" in html  # an empty menu node: no text yet


def test_page_offers_the_inline_editors_to_editors(admin_auth, menu_name):
    main = node_block(page(admin_auth, menu_name), "main")
    assert "ivr-edit-toggle" in main and 'name="text-zh"' in main and 'class="form-row ivr-option-form" data-key="1"' in main
    assert "ivr-listen" in main


def test_a_campaign_menu_gets_a_survey_node_edited_in_its_own_fields(admin_auth, menu_name, dbs):
    from ivr.menu.model import SurveyNode
    from ivr.menu.store import draft_definition

    page_text = page(admin_auth, menu_name)
    assert 'id="purpose-form"' in page_text and "<option>survey</option>" in page_text
    admin_auth.post("/admin/ivr_editor/node/add", {"menu": menu_name, "node_id": "q1", "kind": "survey",
                                                   "parent": "main", "key": "2"})
    inbound = node_block(page(admin_auth, menu_name), "q1")
    assert "survey nodes are for campaign menus only" in inbound
    admin_auth.post("/admin/ivr_editor/purpose", {"menu": menu_name, "purpose": "campaign"})
    admin_auth.post("/admin/ivr_editor/node", {
        "menu": menu_name, "node_id": "q1", "text-zh": "{name}，您满意吗？满意请按1，不满意请按2。",
        "text-en": "{name}, are you happy? Press 1 or 2.", "question": "satisfied", "valid_digits": "12",
        "answers": "2=news", "next": "bye"})
    dbs.reread()
    menu = draft_definition(dbs, menu_name)
    assert menu.purpose == "campaign"
    assert menu.nodes["q1"] == SurveyNode(
        id="q1", question="satisfied", valid_digits="12", answers={"2": "news"}, next="bye",
        text={"zh": "{name}，您满意吗？满意请按1，不满意请按2。", "en": "{name}, are you happy? Press 1 or 2."})
    html = page(admin_auth, menu_name)
    block = node_block(html, "q1")
    assert 'name="question" value="satisfied"' in block and "2=news</textarea>" in block
    assert 'class="ivr-problem' not in block  # a campaign menu may hold it, merge fields and all
    assert '<option value="campaign" selected>' in html
    bad = admin_auth.post("/admin/ivr_editor/node", {"menu": menu_name, "node_id": "q1", "answers": "two=news"},
                          follow_redirects=True)
    assert "Not saved" in bad.text and "write it as key=node" in bad.text
    refused = admin_auth.post("/admin/ivr_editor/purpose", {"menu": menu_name, "purpose": "outbound"},
                              follow_redirects=True)
    assert "Not saved" in refused.text
    dbs.reread()
    assert draft_definition(dbs, menu_name).nodes["q1"].answers == {"2": "news"}
