"""Which adapter each channel uses, built from the settings file or, when set there, the admin UI's gateway row.

``channel_gateway`` merges the two sources into one ``GatewayConfig`` (the
database row wins for its channel); ``build_adapter`` turns it into an
adapter. Settings objects are duck-typed (``settings.sms.http_url`` ...), so
this module does not import the composition root.
"""

from __future__ import annotations

from typing import Any, Callable

from crm_core.services.gateways import GatewayConfig
from messaging.channels.capture import CaptureAdapter
from messaging.db import DbRunner

#: Rate of a capture lane (it sends nowhere, so only the database limits it).
CAPTURE_RATE = 100_000.0


def _from_settings(settings: Any, channel: str) -> GatewayConfig:
    if channel == "sms":
        sms = settings.sms
        if sms.gateway == "http":
            return GatewayConfig("sms", "http", True, {"url": sms.http_url, "api_key": sms.http_api_key,
                                                       "sender_id": sms.http_sender_id,
                                                       "callback_url": sms.http_callback_url,
                                                       "timeout": sms.http_timeout}, sms.http_secret, "settings")
        if sms.gateway == "smpp":
            return GatewayConfig("sms", "smpp", True, {"host": sms.smpp_host, "port": sms.smpp_port,
                                                       "system_id": sms.smpp_system_id,
                                                       "system_type": sms.smpp_system_type,
                                                       "source_addr": sms.smpp_source_addr,
                                                       "timeout": sms.smpp_timeout}, sms.smpp_password, "settings")
        return GatewayConfig("sms", "capture", True, {}, None, "settings")
    if channel == "email":
        mail = settings.email
        if mail.gateway == "smtp":
            return GatewayConfig("email", "smtp", True, {
                "host": mail.smtp_host, "port": mail.smtp_port, "username": mail.smtp_username,
                "from_address": mail.from_address, "starttls": mail.starttls, "ssl": mail.ssl,
                "ca_file": mail.ca_file, "timeout": mail.timeout, "bounce_domain": mail.bounce_domain},
                mail.smtp_password, "settings")
        return GatewayConfig("email", "capture", True, {}, None, "settings")
    section = settings.fax if channel == "fax" else settings.voice
    if section.gateway == "freeswitch":
        options = {"dial_string": section.dial_string, "caller_id": section.caller_id,
                   "timeout": section.originate_timeout, "max_concurrent": section.max_concurrent}
        if channel == "fax":
            options.update(station_id=section.station_id, header=section.header)
        return GatewayConfig(channel, "freeswitch", True, options, None, "settings")
    return GatewayConfig(channel, "capture", True, {}, None, "settings")


def channel_gateway(settings: Any, channel: str, overrides: dict[str, GatewayConfig]) -> GatewayConfig:
    """The gateway of ``channel``: the admin UI's row when there is one, else the settings file."""
    return overrides.get(channel) or _from_settings(settings, channel)


def channel_rate(settings: Any, config: GatewayConfig) -> tuple[float, float]:
    """(rate per second, burst) of a channel's lane."""
    if config.kind == "capture":
        return CAPTURE_RATE, CAPTURE_RATE
    if config.channel == "sms":
        return settings.sms.rate_per_second, settings.sms.burst
    if config.channel == "email":
        return settings.email.rate_per_second, max(1.0, settings.email.rate_per_second)
    section = settings.fax if config.channel == "fax" else settings.voice
    return section.rate_per_second, max(1.0, section.rate_per_second)


def build_adapter(config: GatewayConfig, *, settings: Any, db: DbRunner, reactor: Any,
                  switch: Callable[[], Any], speak: Callable[[str, str], Any] | None = None) -> Any:
    """The adapter a gateway config describes (ValueError when it cannot be built)."""
    o = config.options
    if config.kind == "capture":
        return CaptureAdapter(db, reactor)
    if config.kind == "http":
        from messaging.channels.http_sms import HttpSmsAdapter

        return HttpSmsAdapter(reactor, str(o.get("url", "")), str(o.get("api_key", "")), config.secret or "",
                              sender_id=str(o.get("sender_id") or ""), callback_url=str(o.get("callback_url") or ""),
                              timeout=float(o.get("timeout") or 10.0))
    if config.kind == "smpp":
        from messaging.channels.smpp import SmppAdapter

        return SmppAdapter(reactor, str(o.get("host", "")), int(o.get("port") or 2775), str(o.get("system_id", "")),
                           config.secret or "", system_type=str(o.get("system_type") or ""),
                           source_addr=str(o.get("source_addr") or ""), timeout=float(o.get("timeout") or 10.0))
    if config.kind == "smtp":
        from messaging.channels.smtp import SmtpAdapter

        mail = settings.email
        return SmtpAdapter(reactor, str(o.get("host", "127.0.0.1")), int(o.get("port") or 587),
                           username=str(o.get("username") or ""), password=config.secret or "",
                           from_address=str(o.get("from_address") or mail.from_address),
                           starttls=bool(o.get("starttls", True)), use_ssl=bool(o.get("ssl", False)),
                           ca_file=str(o.get("ca_file") or ""), timeout=float(o.get("timeout") or 30.0),
                           bounce_domain=str(o.get("bounce_domain") or ""), max_connections=mail.max_connections)
    if config.kind == "freeswitch" and config.channel == "fax":
        from messaging.channels.fax import FreeswitchFaxAdapter

        fax = settings.fax
        return FreeswitchFaxAdapter(switch(), reactor, dial_template=str(o.get("dial_string") or fax.dial_string),
                                    caller_id=str(o.get("caller_id") or ""), station_id=str(o.get("station_id") or ""),
                                    header=str(o.get("header") or ""),
                                    originate_timeout=int(o.get("timeout") or fax.originate_timeout),
                                    fax_timeout=fax.fax_timeout,
                                    max_in_flight=int(o.get("max_concurrent") or fax.max_concurrent))
    if config.kind == "freeswitch" and config.channel == "voice":
        from messaging.channels.voice import FreeswitchVoiceAdapter

        if speak is None:
            raise ValueError("voice messages through FreeSWITCH need the prompt renderer (text to speech)")
        voice = settings.voice
        return FreeswitchVoiceAdapter(switch(), speak, dial_template=str(o.get("dial_string") or voice.dial_string),
                                      caller_id=str(o.get("caller_id") or ""),
                                      originate_timeout=int(o.get("timeout") or voice.originate_timeout),
                                      max_in_flight=int(o.get("max_concurrent") or voice.max_concurrent))
    raise ValueError(f"no {config.kind} gateway for {config.channel}")
