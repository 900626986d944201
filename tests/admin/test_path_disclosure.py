"""What the admin UI shows never names an absolute server path: files are named inside the configured folders.

Each case provokes a real failure (sox refusing a truncated upload, a
recordings folder that cannot be created, a TTS cache that is not a folder)
and checks the page or JSON the user gets.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest


def _wav_16k_stereo() -> bytes:
    """A WAV that needs converting to 8 kHz mono before a phone can play it."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x10\x00" * 8000)
    return buffer.getvalue()


def _wav_header_then_garbage() -> bytes:
    return _wav_16k_stereo()[:12] + b"\xff" * 200  # RIFF/WAVE, then nothing sox can read


@pytest.fixture
def audio_config(app, tmp_path):  # type: ignore[no-untyped-def]
    """Point the app's TTS cache and recordings at ``tmp_path`` for one test, then restore them."""
    from admin.views.ivr_audio import BUILDER_KEY

    saved = {k: app.config.get(k) for k in ("TTS_CACHE_DIR", "PROMPT_OVERRIDES_DIR", "TTS_ENGINE")}

    def use(cache: Path, overrides: Path) -> None:
        app.config.update(TTS_CACHE_DIR=str(cache), PROMPT_OVERRIDES_DIR=str(overrides), TTS_ENGINE="espeak-ng")
        app.extensions.pop(BUILDER_KEY, None)

    yield use
    app.config.update(saved)
    app.extensions.pop(BUILDER_KEY, None)


def _no_absolute_path(text: str, *folders: Path) -> None:
    for folder in folders:
        assert str(folder) not in text, text
        assert str(folder.resolve()) not in text, text


def _refusal(page: str) -> str:
    start = page.index("Recording refused")
    return page[start:page.index("<", start)]


def test_a_recording_that_cannot_be_converted_is_refused_naming_folders_not_server_paths(
        as_role, audio_config, tmp_path) -> None:
    """The upload needs converting to 8 kHz, but the TTS cache it converts into is not a folder."""
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    audio_config(blocker, tmp_path / "overrides")
    admin = as_role("admin")
    admin.client.get("/admin/?lang=en")
    page = admin.post("/admin/ivr_editor/recording", {
        "prompt": "main_menu", "lang": "zh", "file": (io.BytesIO(_wav_16k_stereo()), "x.wav")},
        content_type="multipart/form-data", follow_redirects=True).text
    refusal = _refusal(page)
    _no_absolute_path(page, tmp_path)
    assert "tts-cache/zh" in refusal, refusal


def test_a_truncated_recording_is_refused_without_a_server_path(as_role, audio_config, tmp_path) -> None:
    audio_config(tmp_path / "tts", tmp_path / "overrides")
    admin = as_role("admin")
    admin.client.get("/admin/?lang=en")
    page = admin.post("/admin/ivr_editor/recording", {
        "prompt": "main_menu", "lang": "zh", "file": (io.BytesIO(_wav_header_then_garbage()), "x.wav")},
        content_type="multipart/form-data", follow_redirects=True).text
    assert "not a usable WAV recording" in _refusal(page)
    _no_absolute_path(page, tmp_path)


def test_a_recordings_folder_that_cannot_be_made_is_a_clear_refusal_not_a_500(as_role, audio_config,
                                                                              tmp_path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the recordings folder should be")
    audio_config(tmp_path / "tts", blocker)
    admin = as_role("admin")
    admin.client.get("/admin/?lang=en")
    response = admin.post("/admin/ivr_editor/recording", {
        "prompt": "main_menu", "lang": "zh", "file": (io.BytesIO(_wav_header_then_garbage()), "x.wav")},
        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "could not be stored" in response.text
    _no_absolute_path(response.text, tmp_path)


def test_a_tts_failure_names_no_server_path(as_role, audio_config, tmp_path) -> None:
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    audio_config(blocker, tmp_path / "overrides")
    response = as_role("admin").client.get("/admin/ivr_editor/listen?prompt=main_menu&lang=zh")
    assert response.status_code == 422
    assert "failed" in response.text
    _no_absolute_path(response.text, tmp_path)


def test_scrub_keeps_urls_and_relative_names_and_shortens_absolute_paths(tmp_path) -> None:
    from admin.paths import path_roots, scrub, shown_path

    roots = path_roots({"TTS_CACHE_DIR": str(tmp_path / "tts"), "HOTLINE_VAR_DIR": str(tmp_path / "var")})
    text = (f"sox FAIL formats: can't open input file `{tmp_path}/tts/zh/a.wav': no; "
            f"[Errno 2] No such file: '/etc/hotline/secret.toml'; see http://example.com/x/y and var/prompts/a")
    cleaned = scrub(text, roots)
    assert "`tts-cache/zh/a.wav'" in cleaned and "'secret.toml'" in cleaned
    assert "http://example.com/x/y" in cleaned and "var/prompts/a" in cleaned
    assert shown_path(tmp_path / "var" / "sim" / "sounds" / "x.wav", roots) == "var/sim/sounds/x.wav"
