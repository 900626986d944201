"""sipp scenarios for the real-switch stage: callers from the trunk, agent phones on the agents profile.

Each function returns scenario XML; :class:`Sipp` runs one scenario as a
child process and keeps its message log for the failure report. A caller
is a list of steps run in order; ``wait_info`` is how the test keeps a
caller in step with the switch without guessing times: the test watches
the switch's events (a menu starts reading keys) and then sends the caller
a SIP INFO (``uuid_send_info``), which ends the wait. (mod_sofia sends such
an INFO only to a far end that says ``X-FS-Support: send_info``, which the
caller's INVITE does.)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from rig import end_process

SIPP = "sipp"

_SDP = """v=0
o=hotline-test 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20"""


def _send(text: str, retrans: bool = False) -> str:
    attr = ' retrans="500"' if retrans else ""
    return f"  <send{attr}>\n    <![CDATA[\n{text.strip()}\n\n    ]]>\n  </send>\n"


def _scenario(name: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<scenario name="{name}">\n{body}</scenario>\n'


def _reply_200() -> str:
    return _send("""SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port]>
Content-Length: 0""")


def register(user: str, password: str, domain: str, expect: str = "200", expires: int = 3600) -> str:
    """REGISTER with digest auth; ``expect`` "200" (accepted) or "denied" (401/403 after the credentials)."""
    head = f"""REGISTER sip:{domain} SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@{domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:{user}@{domain}>
Call-ID: [call_id]
Contact: <sip:{user}@[local_ip]:[local_port]>
Max-Forwards: 70
Expires: {expires}"""
    body = _send(head + "\nCSeq: 1 REGISTER\nContent-Length: 0", retrans=True)
    body += '  <recv response="401" auth="true"/>\n'
    body += _send(head + f"\nCSeq: 2 REGISTER\n[authentication username={user} password={password}]\n"
                         "Content-Length: 0", retrans=True)
    if expect == "200":
        body += '  <recv response="200"/>\n'
    else:
        body += '  <recv response="403" optional="true" next="denied"/>\n  <recv response="401"/>\n'
        body += '  <label id="denied"/>\n'
    return _scenario(f"register {user} ({expect})", body)


def _invite(user: str, domain: str, dialled: str, cseq: int = 1, extra: str = "") -> str:
    """An INVITE with our SDP (PCMU and telephone-event) from ``user`` to ``dialled``."""
    return f"""INVITE sip:{dialled}@{domain} SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@{domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:{dialled}@{domain}>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:{user}@[local_ip]:[local_port]>
{extra}Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{_SDP}"""


def _challenged(user: str, domain: str, dialled: str, auth: bool) -> str:
    """Messages 0-3: the INVITE, its 407 and the ACK, on the INVITE's branch as a non-2xx ACK must be."""
    body = _send(_invite(user, domain, dialled), retrans=True)
    body += '  <recv response="100" optional="true"/>\n'
    body += '  <recv response="407" auth="true"/>\n' if auth else '  <recv response="407"/>\n'
    return body + _send(f"""ACK sip:{dialled}@{domain} SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch-3]
From: <sip:{user}@{domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:{dialled}@{domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0""")


def _answered(user: str, domain: str, dialled: str, cseq: int) -> str:
    """Wait for the 200 (provisional answers optional) and ACK it."""
    body = ('  <recv response="100" optional="true"/>\n  <recv response="180" optional="true"/>\n'
            '  <recv response="183" optional="true"/>\n  <recv response="200" rrs="true"/>\n')
    return body + _send(f"""ACK [next_url] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:{user}@{domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:{dialled}@{domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0""")


def invite_without_credentials(user: str, domain: str, dialled: str) -> str:
    """An INVITE from a phone's address with no credentials: it must be challenged (407)."""
    return _scenario(f"{user} dials {dialled} without credentials", _challenged(user, domain, dialled, auth=False))


def feature_call(user: str, password: str, domain: str, code: str) -> str:
    """An agent phone dials a feature code: challenged, answers with credentials, hears it out, gets the BYE."""
    body = _challenged(user, domain, code, auth=True)
    body += _send(_invite(user, domain, code, 2, f"[authentication username={user} password={password}]\n"),
                  retrans=True)
    body += _answered(user, domain, code, 2)
    body += '  <recv request="BYE"/>\n' + _reply_200()
    return _scenario(f"{user} dials {code}", body)


def _response(status: str, body: str = "", user: str = "", extra: str = "") -> str:
    """A UAS's answer to the INVITE it received (``body``: SDP), its dialog tag added to To."""
    content = f"Content-Type: application/sdp\nContent-Length: [len]\n\n{body}" if body else "Content-Length: 0"
    contact = f"{user}@" if user else ""
    return f"""SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:{contact}[local_ip]:[local_port]>
{extra}{content}"""


def agent_phone() -> str:
    """A registered phone that rings, answers after 0.3 s and talks until the switch hangs up (any number of calls)."""
    ringing, answer = _response("180 Ringing"), _response("200 OK", _SDP)
    body = '  <recv request="INVITE" crlf="true"/>\n' + _send(ringing)
    body += '  <pause milliseconds="300"/>\n' + _send(answer, retrans=True)
    body += '  <recv request="ACK" crlf="true"/>\n  <recv request="BYE"/>\n' + _reply_200()
    return _scenario("agent phone", body)


@dataclass
class Caller:
    """A customer calling a hotline number through the trunk: steps run in order after the answer."""

    ani: str
    dialled: str
    domain: str
    steps: list[str] = field(default_factory=list)
    _cseq: int = 1

    def _request(self, method: str, extra: str = "", body: str = "") -> str:
        self._cseq += 1
        content = f"{extra}Content-Length: [len]\n\n{body}" if body else f"{extra}Content-Length: 0"
        return _send(f"""{method} [next_url] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:{self.ani}@{self.domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:{self.dialled}@{self.domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: {self._cseq} {method}
Contact: <sip:{self.ani}@[local_ip]:[local_port]>
Max-Forwards: 70
{content}""") + '  <recv response="200"/>\n'

    def wait_info(self) -> "Caller":
        """Wait for the test's nudge (a SIP INFO from the switch, ``uuid_send_info``)."""
        self.steps.append('  <recv request="INFO"/>\n' + _reply_200())
        return self

    def play(self, pcap: Path, seconds: float = 0.0) -> "Caller":
        """Start sending RTP from a pcap (sipp plays it in the background); wait ``seconds`` for it first.

        Digits need no wait (the test's next nudge comes after the switch
        acted on them, and a nudge arriving during a pause would abort the
        scenario); speech does, before the key that ends a recording.
        """
        self.steps.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n')
        if seconds:
            self.steps.append(f'  <pause milliseconds="{int(seconds * 1000) + 200}"/>\n')
        return self

    def info_digit(self, digit: str) -> "Caller":
        """A key as SIP INFO (application/dtmf-relay)."""
        self.steps.append(self._request("INFO", "Content-Type: application/dtmf-relay\n",
                                        f"Signal={digit}\nDuration=160"))
        return self

    def pause(self, seconds: float) -> "Caller":
        self.steps.append(f'  <pause milliseconds="{int(seconds * 1000)}"/>\n')
        return self

    def bye(self) -> "Caller":
        self.steps.append(self._request("BYE"))
        return self

    def wait_bye(self) -> "Caller":
        self.steps.append('  <recv request="BYE"/>\n' + _reply_200())
        return self

    def xml(self) -> str:
        invite = _invite(self.ani, self.domain, self.dialled, extra="X-FS-Support: send_info\n")
        body = _send(invite, retrans=True) + _answered(self.ani, self.domain, self.dialled, 1)
        return _scenario(f"{self.ani} calls {self.dialled}", body + "".join(self.steps))


@dataclass
class Callee(Caller):
    """A customer's phone the dialer calls: it rings, answers, then runs its steps (as a :class:`Caller`'s)."""

    ring_ms: int = 500

    def xml(self) -> str:
        # X-FS-Support: send_info -- FreeSWITCH sends the test's nudges (uuid_send_info) only to a UA saying so
        def response(status: str, body: str = "") -> str:
            return _response(status, body, self.ani, "X-FS-Support: send_info\n")

        body = '  <recv request="INVITE" crlf="true"/>\n' + _send(response("180 Ringing"))
        body += f'  <pause milliseconds="{self.ring_ms}"/>\n' + _send(response("200 OK", _SDP), retrans=True)
        body += '  <recv request="ACK" crlf="true"/>\n'
        return _scenario(f"{self.ani} answers {self.dialled}", body + "".join(self.steps))


class Sipp:
    """One sipp child process running one scenario file against the switch."""

    def __init__(self, folder: Path, name: str, xml: str, target: str, port: int, media_port: int | None = None,
                 calls: int | None = 1, timeout: float = 120.0) -> None:
        self.folder, self.name = folder, name
        self.scenario = folder / f"{name}.xml"
        self.scenario.write_text(xml, encoding="utf-8")
        self.messages = folder / f"{name}.messages.log"
        self.errors = folder / f"{name}.errors.log"
        cmd = [SIPP, target, "-sf", str(self.scenario), "-i", "127.0.0.1", "-p", str(port), "-aa",
               "-trace_msg", "-message_file", str(self.messages), "-trace_err", "-error_file", str(self.errors),
               "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error"]
        if media_port is not None:
            cmd += ["-mp", str(media_port)]
        if calls is not None:
            cmd += ["-m", str(calls)]
        self.cmd = cmd
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder)

    def wait(self, timeout: float = 120.0) -> int:
        """sipp's exit code (0: every call followed the scenario)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return -1

    def stop(self) -> None:
        end_process(self.process, 5)

    def report(self) -> str:
        """The tail of what sipp logged, for an assertion message."""
        parts = [f"sipp {self.name}: {' '.join(self.cmd)}"]
        for path in (self.errors, self.messages):
            if path.exists():
                parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def ok(self, timeout: float = 120.0) -> None:
        """Assert the scenario ran through."""
        code = self.wait(timeout)
        assert code == 0, f"exit {code}\n{self.report()}"
