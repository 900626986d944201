"""The admin application's Flask config made from the Hotline settings (the admin package does not read them).

``admin.app.create_app`` takes a plain config mapping; this composition-root
module is the one place that knows which setting becomes which config key.
"""

from __future__ import annotations

from typing import Any

from hotline.settings import Settings, database_url


def config_from_settings(settings: Settings) -> dict[str, Any]:
    """Flask config for the Hotline settings."""
    from admin.app import body_limits, persistent_secret_key
    from crm_core.services.login_throttle import ThrottlePolicy

    admin = settings.admin
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(settings),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": settings.db.pool_size, "echo": settings.db.echo}
        if not settings.db.url.startswith("sqlite") else {"echo": settings.db.echo},
        "SECRET_KEY": admin.secret_key or persistent_secret_key(settings.var_dir),
        "HOTLINE_DEMO_MODE": admin.demo_mode,
        "VOICEMAIL_DIRS": [settings.var_dir, settings.sim.recordings_dir, settings.ivr.recordings_dir],
        "HOTLINE_VAR_DIR": settings.var_dir,  # messages name files relative to these folders (admin.paths)
        "SIM_SOUNDS_DIR": settings.sim.sounds_dir,
        "TTS_CACHE_DIR": settings.tts.cache_dir,  # the IVR editor's "listen" and the test call's phrases
        "TTS_VOICES": {"zh": settings.tts.voice_zh, "en": settings.tts.voice_en},
        "PROMPT_OVERRIDES_DIR": settings.ivr.prompt_recordings_dir,
        "BLACKLIST_THRESHOLD": settings.crm.blacklist_threshold,
        "CENTER_TIMEZONE": settings.center.timezone,
        "HOTLINE_TRUSTED_PROXIES": admin.trusted_proxies,
        "SESSION_COOKIE_SECURE": admin.secure_cookies,
        "REMEMBER_COOKIE_SECURE": admin.secure_cookies,
        "SESSION_IDLE_MINUTES": admin.session_idle_minutes,
        "SESSION_MAX_HOURS": admin.session_max_hours,
        "PERMANENT_SESSION_LIFETIME": admin.session_max_hours * 3600,
        "LOGIN_THROTTLE": ThrottlePolicy(
            max_failures=admin.login_max_failures, max_failures_per_address=admin.login_max_failures_per_address,
            lockout_seconds=admin.login_lockout_seconds, lockout_max_seconds=admin.login_lockout_max_seconds,
            memory_seconds=admin.login_failure_memory_minutes * 60),
        **body_limits(admin.max_request_kb * 1024, admin.max_upload_mb * 1024 * 1024),
        "FAX_DIRS": [settings.fax.store_dir, settings.fax.spool_dir],  # fax documents the admin may serve
    }


def create_admin_app(settings: Settings) -> Any:
    """The admin Flask app for these settings."""
    from admin.app import create_app

    return create_app(config_from_settings(settings))
