"""Settings: one TOML file plus ``HOTLINE_*`` environment overrides, checked at start.

Every key lives in a section (``[db] url = ...``); the environment variable
for it is ``HOTLINE_<SECTION>_<KEY>`` in upper case, so ``db.url`` is
``HOTLINE_DB_URL``. Defaults run on one machine with no setup: SQLite under
``var/``, the built-in switch simulator, the admin UI on 127.0.0.1:8080.
A bad value stops start-up with a message naming the key and what is wrong.

Every file the engine writes lives under ``var_dir`` unless a setting names
another place: a path setting left empty is filled in from ``var_dir`` (the
database, prompt audio, recordings, uploaded prompt recordings, the
simulator's folders), so one ``HOTLINE_VAR_DIR`` moves them all.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(Exception):
    """A setting is missing, malformed or inconsistent."""


#: Event-socket passwords everyone knows (FreeSWITCH's shipped default, or none): refused outside demo mode.
WELL_KNOWN_SWITCH_PASSWORDS = frozenset({"ClueCon", ""})


@dataclass(frozen=True)
class DbSettings:
    url: str = ""  # empty: sqlite:///<var_dir>/hotline.db
    pool_size: int = 8
    echo: bool = False


@dataclass(frozen=True)
class SwitchSettings:
    #: "sim" runs the built-in simulator in-process; "freeswitch" connects to a real one.
    mode: str = "sim"
    host: str = "127.0.0.1"
    port: int = 8021
    password: str = "ClueCon"
    reconnect_max_delay: float = 30.0
    command_timeout: float = 30.0


@dataclass(frozen=True)
class CallServerSettings:
    """Where the engine listens for FreeSWITCH's outbound ``socket`` connections."""

    host: str = "127.0.0.1"
    port: int = 8084
    linger: int = 10
    #: how long a database or prompt thread may keep Python's GIL before the reactor, which serves every
    #: call, gets it back (``sys.setswitchinterval``); CPython's 5 ms shows up whole in callers' key->prompt gaps
    switch_interval_ms: float = 1.0


@dataclass(frozen=True)
class SimSettings:
    """The switch simulator (``hotline sim`` or in-process when switch.mode = sim).

    It listens where the engine's switch client connects (``switch.host``,
    ``switch.port``, ``switch.password``) and its numbers' ``socket`` app
    connects to the CallServer (``callserver.host``/``port``): one setting each.
    """

    sounds_dir: str = ""  # empty: <var_dir>/sim/sounds
    recordings_dir: str = ""  # empty: <var_dir>/sim/recordings


#: Settings that once existed, and what replaced them (named in the error a stale file or variable gets).
REMOVED = {
    ("sim", "host"): "switch.host", ("sim", "port"): "switch.port", ("sim", "password"): "switch.password",
    ("sim", "socket_host"): "callserver.host", ("sim", "socket_port"): "callserver.port",
}


@dataclass(frozen=True)
class AdminSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key: str = ""
    #: the demo install: its well-known demo passwords (from ``hotline demo-data``) and the switch's ``ClueCon``
    #: are accepted only when true (``make run`` sets it); outside demo mode the engine refuses to start with them
    demo_mode: bool = False
    #: mark the session cookie ``Secure`` (sent over HTTPS only): set it when a TLS proxy serves the admin UI
    secure_cookies: bool = False
    #: reverse proxies in front of the admin UI whose X-Forwarded-For / -Proto are believed (0: none): the client
    #: address is what log-in throttling counts and the audit log records, so behind a proxy set this to 1
    trusted_proxies: int = 0
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    #: failed log-ins per account name, and per client address, before lock-outs start
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    #: the first lock-out; each further failure doubles it, up to the maximum
    login_lockout_seconds: int = 30
    login_lockout_max_seconds: int = 900
    #: failures are forgotten this long after the last one
    login_failure_memory_minutes: int = 60
    #: largest request body (forms, JSON), refused before it is read
    max_request_kb: int = 1024
    #: largest file upload (multipart/form-data: CSV imports, recordings), streamed to disk
    max_upload_mb: int = 20


@dataclass(frozen=True)
class CrmSettings:
    blacklist_threshold: int = 3
    default_region: str = "CN"
    points_per_yuan: int = 1


@dataclass(frozen=True)
class TtsSettings:
    cache_dir: str = ""  # empty: <var_dir>/prompts (rendered prompt audio; FreeSWITCH must be able to read it)
    voice_zh: str = "sit/cmn-latn-pinyin"
    voice_en: str = "gmw/en-us"


@dataclass(frozen=True)
class AsrSettings:
    model_path: str = ""
    confidence: float = 0.6


@dataclass(frozen=True)
class MessagingSettings:
    """The outbox dispatcher (SMS, e-mail, fax, voice): pacing, retries, where documents are kept."""

    enabled: bool = True
    batch: int = 200
    poll_interval: float = 1.0
    retry_base: float = 30.0
    retry_max: float = 3600.0
    sweep_interval: float = 30.0
    store_dir: str = ""  # empty: <var_dir>/messaging (rendered fax documents)


@dataclass(frozen=True)
class SmsSettings:
    """The SMS gateway: "capture" (development), "http" (JSON API) or "smpp"."""

    gateway: str = "capture"
    rate_per_second: float = 50.0
    burst: float = 50.0
    http_url: str = ""
    http_api_key: str = ""
    http_secret: str = ""
    http_sender_id: str = ""
    http_callback_url: str = ""
    http_timeout: float = 10.0
    receipt_poll_after: float = 300.0
    smpp_host: str = ""
    smpp_port: int = 2775
    smpp_system_id: str = ""
    smpp_password: str = ""
    smpp_system_type: str = ""
    smpp_source_addr: str = ""
    smpp_timeout: float = 10.0


@dataclass(frozen=True)
class EmailSettings:
    """The e-mail gateway: "capture" (development) or "smtp"."""

    gateway: str = "capture"
    from_address: str = "hotline@localhost"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    starttls: bool = True
    ssl: bool = False
    ca_file: str = ""
    timeout: float = 30.0
    max_connections: int = 4
    rate_per_second: float = 10.0
    bounce_domain: str = ""
    bounce_maildir: str = ""


@dataclass(frozen=True)
class FaxSettings:
    """Fax out ("capture" or "freeswitch" txfax) and in (rxfax files the switch writes)."""

    gateway: str = "capture"
    dial_string: str = "sofia/gateway/itsp/{national}"
    caller_id: str = ""
    station_id: str = "+86 400 800 1099"
    header: str = "Hotline"
    originate_timeout: int = 60
    fax_timeout: float = 600.0
    max_concurrent: int = 2
    rate_per_second: float = 1.0
    compression: str = "group4"
    font_path: str = ""
    spool_dir: str = ""  # empty: <var_dir>/fax/spool (where rxfax writes; the switch must be able to)
    store_dir: str = ""  # empty: <var_dir>/fax (filed faxes: TIFF, PDF, thumbnail)


@dataclass(frozen=True)
class VoiceSettings:
    """Voice notifications: "capture" or "freeswitch" (call and speak the text)."""

    gateway: str = "capture"
    dial_string: str = "sofia/gateway/itsp/{national}"
    caller_id: str = ""
    originate_timeout: int = 45
    max_concurrent: int = 4
    rate_per_second: float = 2.0


@dataclass(frozen=True)
class IvrSettings:
    """The IVR engine-wide (menus themselves are data, edited in the admin UI)."""

    menu: str = "main"  # the published menu calls run
    #: where callers' recordings (voicemail, complaints, speech) go when the call does not say
    #: (a real FreeSWITCH's dialplan sets hotline_recordings_dir from vars.xml: that wins); empty: <var_dir>/recordings
    recordings_dir: str = ""
    #: uploaded prompt recordings that replace TTS (admin: IVR audio); empty: <var_dir>/prompt-recordings
    prompt_recordings_dir: str = ""
    type_ahead: bool = True  # keys pressed during a greeting or announcement answer the next menu
    input_timeout: float = 6.0  # seconds to wait for a key at a prompt
    digit_timeout: float = 3.0  # seconds between the digits of a number
    retries: int = 2  # failed answers to an in-flow question before an agent takes over
    max_order_quantity: int = 20
    complaint_max_seconds: int = 120


@dataclass(frozen=True)
class AcdSettings:
    """Queues the IVR names and the virtual-hold callback offer."""

    default_queue: str = "sales"  # where a hand-off goes when its queue is not an ACD queue
    queue_aliases: str = "general=sales"  # IVR queue name = ACD queue, comma-separated
    callback_after: float = 120.0  # offer a callback when the expected wait exceeds this (s); 0: never
    callback_dial_template: str = "loopback/{number}"  # production: sofia/gateway/<trunk>/{number}
    announce_every: float = 30.0  # position / expected wait announcements (s); 0: never

    def aliases(self) -> dict[str, str]:
        """``queue_aliases`` as a mapping."""
        out = {}
        for item in filter(None, (part.strip() for part in self.queue_aliases.split(","))):
            name, sep, target = item.partition("=")
            if not sep or not name.strip() or not target.strip():
                raise SettingsError(f"acd.queue_aliases: expected name=queue, got {item!r}")
            out[name.strip()] = target.strip()
        return out


@dataclass(frozen=True)
class DialerSettings:
    """The outbound dialer inside the engine (docs/outbound.md): it dials the running campaigns."""

    enabled: bool = True
    #: names this engine's open attempts (two engines on one database need two ids); empty: the host name
    engine_id: str = ""
    #: the carrier trunk; {national}, {e164} or {digits} of the contact's number
    dial_string: str = "sofia/gateway/itsp/{national}"
    tick_seconds: float = 1.0
    max_lines: int = 0  # calls in flight per campaign at most; 0: no limit but the pacing's
    amd_available: bool = False  # mod_amd is loaded on the switch (else machine policies are not applied)
    identification_file: str = "campaigns/identification.wav"  # who called and a number to call back
    caller_id_name: str = "Hotline"
    status_seconds: float = 3.0  # how often the live figures are stored for the CLI and the admin UI
    preview_release_minutes: float = 10.0  # a preview contact claimed and neither dialled nor skipped goes back

    def resolved_engine_id(self) -> str:
        """``engine_id``, or the host name when it is empty."""
        import socket

        return (self.engine_id.strip() or socket.gethostname() or "engine")[:40]


@dataclass(frozen=True)
class CenterSettings:
    """The contact center itself."""

    timezone: str = "Asia/Shanghai"  # report days, the wallboard clock, business hours defaults, ACD day roll-over

    def utc_offset_minutes(self, at: Any = None) -> int:
        """Minutes east of UTC in the center's time zone (now, or at the aware datetime ``at``)."""
        moment = at or dt.datetime.now(dt.timezone.utc)
        offset = moment.astimezone(ZoneInfo(self.timezone)).utcoffset() or dt.timedelta(0)
        return int(offset.total_seconds() // 60)


@dataclass(frozen=True)
class Settings:
    db: DbSettings = field(default_factory=DbSettings)
    switch: SwitchSettings = field(default_factory=SwitchSettings)
    callserver: CallServerSettings = field(default_factory=CallServerSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    crm: CrmSettings = field(default_factory=CrmSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    messaging: MessagingSettings = field(default_factory=MessagingSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    fax: FaxSettings = field(default_factory=FaxSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    ivr: IvrSettings = field(default_factory=IvrSettings)
    acd: AcdSettings = field(default_factory=AcdSettings)
    dialer: DialerSettings = field(default_factory=DialerSettings)
    center: CenterSettings = field(default_factory=CenterSettings)
    var_dir: str = "var"

    def __post_init__(self) -> None:
        """Fill path settings left empty from ``var_dir``."""
        var = Path(self.var_dir)
        defaults = {
            "db": {"url": f"sqlite:///{var / 'hotline.db'}"},
            "tts": {"cache_dir": str(var / "prompts")},
            "sim": {"sounds_dir": str(var / "sim" / "sounds"), "recordings_dir": str(var / "sim" / "recordings")},
            "ivr": {"recordings_dir": str(var / "recordings"),
                    "prompt_recordings_dir": str(var / "prompt-recordings")},
            "messaging": {"store_dir": str(var / "messaging")},
            "fax": {"spool_dir": str(var / "fax" / "spool"), "store_dir": str(var / "fax")},
        }
        for section, values in defaults.items():
            current = getattr(self, section)
            missing = {key: value for key, value in values.items() if not getattr(current, key)}
            if missing:
                object.__setattr__(self, section, replace(current, **missing))


def _convert(section: str, key: str, raw: Any, kind: type) -> Any:
    name = f"{section}.{key}"
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name}: expected true/false, got {raw!r}")
    if kind is int:
        try:
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if kind is float:
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if not isinstance(raw, (str, int, float)):
        raise SettingsError(f"{name}: expected text, got {raw!r}")
    return str(raw)


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def _build_section(section: str, cls: type, values: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if (section, key) in REMOVED:
            raise SettingsError(f"[{section}] {key}: no longer a setting; use {REMOVED[section, key]}")
    for (old_section, key), new in REMOVED.items():
        if old_section == section and f"HOTLINE_{section.upper()}_{key.upper()}" in env:
            raise SettingsError(f"HOTLINE_{section.upper()}_{key.upper()} is no longer read; use "
                                f"HOTLINE_{new.replace('.', '_').upper()}")
    unknown = set(values) - set(known)
    if unknown:
        raise SettingsError(f"[{section}]: unknown key(s) {', '.join(sorted(unknown))}")
    kwargs = {}
    for key, fld in known.items():
        env_name = f"HOTLINE_{section.upper()}_{key.upper()}"
        kind = _TYPES[fld.type] if isinstance(fld.type, str) else fld.type
        if env_name in env:
            kwargs[key] = _convert(section, key, env[env_name], kind)
        elif key in values:
            kwargs[key] = _convert(section, key, values[key], kind)
    return cls(**kwargs)


def load_settings(path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (``HOTLINE_CONFIG`` when no path is given), apply the environment, validate."""
    env = os.environ if env is None else env
    path = path or env.get("HOTLINE_CONFIG")
    data: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise SettingsError(f"settings file {path} does not exist (HOTLINE_CONFIG)") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
    sections = {f.name: f for f in fields(Settings) if f.name != "var_dir"}
    unknown = set(data) - set(sections) - {"var_dir"}
    if unknown:
        raise SettingsError(f"unknown settings section(s): {', '.join(sorted(unknown))}")
    built: dict[str, Any] = {}
    for name, fld in sections.items():
        values = data.get(name, {})
        if not isinstance(values, dict):
            raise SettingsError(f"[{name}] must be a table")
        cls = fld.default_factory  # type: ignore[misc]
        built[name] = _build_section(name, cls, values, env)
    var_dir = str(env.get("HOTLINE_VAR_DIR", data.get("var_dir", "var")))
    settings = Settings(var_dir=var_dir, **built)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work, with a message a person can act on."""
    try:
        url = make_url(settings.db.url)
    except ArgumentError:
        raise SettingsError(
            f"db.url (HOTLINE_DB_URL) is not a database URL: {settings.db.url!r}; "
            "expected e.g. sqlite:///var/hotline.db or postgresql+psycopg://user:pw@host/db"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"db.url (HOTLINE_DB_URL): unsupported database {url.get_backend_name()!r}; use sqlite or postgresql"
        )
    if settings.switch.mode not in ("sim", "freeswitch"):
        raise SettingsError(f"switch.mode must be 'sim' or 'freeswitch', got {settings.switch.mode!r}")
    if settings.switch.mode == "freeswitch" and not settings.admin.demo_mode \
            and settings.switch.password in WELL_KNOWN_SWITCH_PASSWORDS:
        raise SettingsError(
            "switch.password (HOTLINE_SWITCH_PASSWORD) is FreeSWITCH's default event-socket password "
            f"{settings.switch.password or '(empty)'!r}, which lets anyone who reaches port "
            f"{settings.switch.port} run any command on the switch: set a password of your own in FreeSWITCH's "
            "autoload_configs/event_socket.conf.xml and here (only demo mode, admin.demo_mode = true, accepts it)")
    for name, port in (
        ("switch.port", settings.switch.port),
        ("callserver.port", settings.callserver.port),
        ("admin.port", settings.admin.port),
    ):
        if not 0 <= port <= 65535:
            raise SettingsError(f"{name} must be a TCP port (0-65535), got {port}")
    if not 0.1 <= settings.callserver.switch_interval_ms <= 100:
        raise SettingsError("callserver.switch_interval_ms must be between 0.1 and 100 (ms)")
    _validate_admin(settings)
    if settings.crm.blacklist_threshold < 1:
        raise SettingsError("crm.blacklist_threshold must be at least 1")
    if not 0.0 <= settings.asr.confidence <= 1.0:
        raise SettingsError("asr.confidence must be between 0 and 1")
    try:
        ZoneInfo(settings.center.timezone)
    except (KeyError, ValueError):
        raise SettingsError(f"center.timezone: unknown time zone {settings.center.timezone!r} "
                            "(an IANA name such as Asia/Shanghai)") from None
    ivr = settings.ivr
    if ivr.input_timeout <= 0 or ivr.digit_timeout <= 0:
        raise SettingsError("ivr.input_timeout and ivr.digit_timeout must be more than 0 seconds")
    if not 0 <= ivr.retries <= 10:
        raise SettingsError("ivr.retries must be between 0 and 10")
    if ivr.max_order_quantity < 1 or ivr.complaint_max_seconds < 5:
        raise SettingsError("ivr.max_order_quantity must be at least 1 and ivr.complaint_max_seconds at least 5")
    acd = settings.acd
    acd.aliases()  # refuses a malformed list
    if not acd.default_queue.strip():
        raise SettingsError("acd.default_queue must name a queue")
    if acd.callback_after < 0 or acd.announce_every < 0:
        raise SettingsError("acd.callback_after and acd.announce_every must be 0 (never) or more seconds")
    if "{number}" not in acd.callback_dial_template:
        raise SettingsError("acd.callback_dial_template must contain {number}")
    validate_dialer(settings)
    validate_messaging(settings)


def validate_dialer(settings: Settings) -> None:
    """Refuse dialer settings that cannot work."""
    d = settings.dialer
    if not 0.1 <= d.tick_seconds <= 60:
        raise SettingsError("dialer.tick_seconds must be between 0.1 and 60")
    if d.max_lines < 0:
        raise SettingsError("dialer.max_lines must be 0 (no limit) or more")
    if not 0.5 <= d.status_seconds <= 60:
        raise SettingsError("dialer.status_seconds must be between 0.5 and 60")
    if d.preview_release_minutes <= 0:
        raise SettingsError("dialer.preview_release_minutes must be more than 0")
    if not any(f"{{{k}}}" in d.dial_string for k in ("national", "e164", "digits")):
        raise SettingsError("dialer.dial_string must contain {national}, {e164} or {digits}")
    try:
        d.dial_string.format(national="1", e164="+861", digits="861")
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(f"dialer.dial_string: only {{national}}, {{e164}} and {{digits}} may be used ({exc})") \
            from None
    if len(d.engine_id) > 40:
        raise SettingsError("dialer.engine_id must be at most 40 characters")


def validate_messaging(settings: Settings) -> None:
    """Refuse messaging settings that cannot work (a gateway without its address, a bad number)."""
    for name, value, allowed in (("sms.gateway", settings.sms.gateway, ("capture", "http", "smpp")),
                                 ("email.gateway", settings.email.gateway, ("capture", "smtp")),
                                 ("fax.gateway", settings.fax.gateway, ("capture", "freeswitch")),
                                 ("voice.gateway", settings.voice.gateway, ("capture", "freeswitch")),
                                 ("fax.compression", settings.fax.compression, ("group3", "group4"))):
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    sms = settings.sms
    if sms.gateway == "http" and not (sms.http_url.startswith(("http://", "https://")) and sms.http_api_key
                                      and sms.http_secret):
        raise SettingsError("sms.gateway = http needs sms.http_url (http or https), sms.http_api_key and "
                            "sms.http_secret")
    if sms.gateway == "smpp" and not (sms.smpp_host and sms.smpp_system_id):
        raise SettingsError("sms.gateway = smpp needs sms.smpp_host and sms.smpp_system_id")
    if settings.email.gateway == "smtp" and "@" not in settings.email.from_address:
        raise SettingsError("email.from_address must be an e-mail address")
    for name, port in (("sms.smpp_port", sms.smpp_port), ("email.smtp_port", settings.email.smtp_port)):
        if not 0 < port <= 65535:
            raise SettingsError(f"{name} must be a TCP port (1-65535), got {port}")
    for name, rate in (("sms.rate_per_second", sms.rate_per_second),
                       ("email.rate_per_second", settings.email.rate_per_second),
                       ("fax.rate_per_second", settings.fax.rate_per_second),
                       ("voice.rate_per_second", settings.voice.rate_per_second)):
        if rate <= 0:
            raise SettingsError(f"{name} must be positive")
    m = settings.messaging
    if m.batch < 1 or m.poll_interval <= 0 or m.retry_base <= 0 or m.retry_max < m.retry_base:
        raise SettingsError("messaging: batch must be at least 1, poll_interval and retry_base "
                            "positive, retry_max at least retry_base")


def _validate_admin(settings: Settings) -> None:
    admin = settings.admin
    for name, value, low, high in (
        ("session_idle_minutes", admin.session_idle_minutes, 1, 7 * 24 * 60),
        ("session_max_hours", admin.session_max_hours, 1, 24 * 31),
        ("login_max_failures", admin.login_max_failures, 1, 1000),
        ("login_max_failures_per_address", admin.login_max_failures_per_address, 1, 100_000),
        ("login_lockout_seconds", admin.login_lockout_seconds, 1, 86_400),
        ("login_lockout_max_seconds", admin.login_lockout_max_seconds, 1, 7 * 86_400),
        ("login_failure_memory_minutes", admin.login_failure_memory_minutes, 1, 30 * 24 * 60),
        ("max_request_kb", admin.max_request_kb, 16, 1024 * 1024),
        ("max_upload_mb", admin.max_upload_mb, 1, 10 * 1024),
        ("trusted_proxies", admin.trusted_proxies, 0, 5),
    ):
        if not low <= value <= high:
            raise SettingsError(f"admin.{name} (HOTLINE_ADMIN_{name.upper()}) must be between {low} and {high}, "
                                f"got {value}")
    if admin.login_lockout_max_seconds < admin.login_lockout_seconds:
        raise SettingsError("admin.login_lockout_max_seconds must be at least admin.login_lockout_seconds")


def shown_database(settings: Settings) -> str:
    """The database as configured (relative SQLite paths stay relative, the password hidden), for messages."""
    try:
        return make_url(settings.db.url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable db.url)"


def database_url(settings: Settings) -> str:
    """The DB URL with relative SQLite paths made absolute and their folder created."""
    url = make_url(settings.db.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"db.url (HOTLINE_DB_URL): cannot create the folder of the SQLite database {path}: "
                                f"{exc.strerror or exc}") from None
        url = url.set(database=str(path.resolve()))
    return url.render_as_string(hide_password=False)
