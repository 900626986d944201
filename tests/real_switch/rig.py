"""A real FreeSWITCH and a real engine, deployed from scratch directories with the documented commands.

:class:`Deployment` runs what docs/freeswitch.md tells a deployer to run, as
child processes of the same ``hotline`` command: ``hotline freeswitch
install`` (the repository's ``freeswitch/conf`` and ``dialplans``, vars.xml
from the settings plus ``--set`` values), the database and demo data,
``hotline freeswitch directory`` (the agents' SIP directory from the
database), ``hotline prompts render``, then ``freeswitch`` on that
configuration and ``hotline run`` in ``switch.mode = "freeswitch"``. Only
the addresses differ from a site: everything binds 127.0.0.1 on free ports
so several runs can share a machine. ``STEPS`` lists the commands so
``tests/freeswitch/test_docs_freeswitch.py`` can check the documentation
gives the same ones.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from free_ports import free_port, free_port_range

FREESWITCH = Path(os.environ.get("HOTLINE_FREESWITCH", "/usr/local/freeswitch/bin/freeswitch"))
FS_CLI = FREESWITCH.with_name("fs_cli")
HOTLINE = str(Path(sys.executable).with_name("hotline"))
#: FreeSWITCH's folders, each given on its command line (README of the bundle); none is root-owned state
FS_DIRS = ("log", "db", "run", "storage", "cache", "recordings", "sounds", "temp", "certs", "scripts", "htdocs",
           "grammar")

#: The deployment commands (docs/freeswitch.md gives each; tests/freeswitch/test_docs_freeswitch.py checks)
STEPS = (
    "hotline db upgrade",
    "hotline freeswitch install --conf",
    "hotline freeswitch directory --conf",
    "hotline prompts render",
    "hotline run",
)
#: what the stage checks with fs_cli once the switch is up (docs/freeswitch.md section 5)
FS_CLI_CHECKS = ("status", "module_exists mod_event_socket", "module_exists mod_spandsp", "sofia status",
                 "sofia status gateway itsp", "sofia status profile agents reg", "xml_locate dialplan",
                 "global_getvar hotline_engine_addr")


def missing() -> str | None:
    """Why the stage cannot run here (one line), or None."""
    if not FREESWITCH.exists():
        return f"FreeSWITCH is not installed ({FREESWITCH}; HOTLINE_FREESWITCH names another binary)"
    if shutil.which("sipp") is None:
        return "sipp is not installed (apt-get install sip-tester)"
    if shutil.which("sox") is None:
        return "sox is not installed (apt-get install sox)"
    if os.geteuid() != 0:
        return "not root: sipp sends the callers' RTP (keys, speech) from pcap files through raw sockets"
    return None


@dataclass
class Ports:
    esl: int
    engine: int
    agents: int
    trunk: int
    rtp_start: int
    rtp_end: int
    callee: int  # the customer's phone the dialer calls (a sipp UAS), through the trunk profile

    @classmethod
    def pick(cls) -> "Ports":
        rtp = free_port_range(64)
        return cls(free_port(), free_port(), free_port(), free_port(), rtp, rtp + 63, free_port())


class Deployment:
    """Scratch directories, the documented commands, a FreeSWITCH process and an engine process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "conf"
        self.fs = root / "fs"
        self.var = root / "var"
        self.fax_dir = root / "fax"
        self.moh_dir = root / "moh"
        self.sipp_dir = root / "sipp"
        for folder in (self.fs, self.var, self.fax_dir, self.moh_dir, self.sipp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.ports = Ports.pick()
        self.password = "esl-" + secrets.token_urlsafe(18)
        self.db_url = f"sqlite:///{root / 'hotline.db'}"
        self.log = root / "commands.log"
        self.switch: subprocess.Popen | None = None
        self.engine: subprocess.Popen | None = None
        self.engine_logs: list[Path] = []
        self.phone_passwords: dict[str, str] = {}

    # -- settings and commands ---------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Hotline's settings for this deployment, as HOTLINE_* variables (the engine and every command)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update({
            "HOTLINE_DB_URL": self.db_url, "HOTLINE_VAR_DIR": str(self.var),
            "HOTLINE_SWITCH_MODE": "freeswitch", "HOTLINE_SWITCH_HOST": "127.0.0.1",
            "HOTLINE_SWITCH_PORT": str(self.ports.esl), "HOTLINE_SWITCH_PASSWORD": self.password,
            "HOTLINE_SWITCH_COMMAND_TIMEOUT": "10", "HOTLINE_SWITCH_RECONNECT_MAX_DELAY": "1",
            "HOTLINE_CALLSERVER_HOST": "127.0.0.1", "HOTLINE_CALLSERVER_PORT": str(self.ports.engine),
            "HOTLINE_TTS_CACHE_DIR": str(self.var / "prompts"), "HOTLINE_ADMIN_DEMO_MODE": "true",
            # received faxes: where rxfax writes (hotline_fax_dir) and where the engine files them
            "HOTLINE_FAX_SPOOL_DIR": str(self.fax_dir), "HOTLINE_FAX_STORE_DIR": str(self.var / "fax"),
            # campaigns dial out through the trunk profile to the test's customer phone (a carrier's place)
            "HOTLINE_DIALER_DIAL_STRING": f"sofia/trunk/sip:{{national}}@127.0.0.1:{self.ports.callee}",
            "HOTLINE_DIALER_TICK_SECONDS": "0.5",
        })
        return env

    def site_values(self) -> dict[str, str]:
        """The ``--set`` values of ``hotline freeswitch install``: a site's addresses, here loopback."""
        p = self.ports
        return {"hotline_sip_ip": "127.0.0.1", "hotline_rtp_ip": "127.0.0.1", "external_sip_ip": "127.0.0.1",
                "external_rtp_ip": "127.0.0.1", "domain": "127.0.0.1", "domain_name": "127.0.0.1",
                "agents_sip_port": str(p.agents), "trunk_sip_port": str(p.trunk),
                "rtp_start_port": str(p.rtp_start), "rtp_end_port": str(p.rtp_end),
                "itsp_cidrs": "127.0.0.1/32", "trunk_register": "false", "hotline_fax_dir": str(self.fax_dir),
                "hotline_moh_dir": str(self.moh_dir)}

    def hotline(self, *args: str, timeout: float = 120.0) -> str:
        """Run ``hotline ARGS`` with this deployment's settings; its output (AssertionError when it fails)."""
        return self._run([HOTLINE, *args], timeout)

    def fs_cli(self, command: str, timeout: float = 20.0) -> str:
        """``fs_cli -x COMMAND`` against this switch's event socket."""
        return self._run([str(FS_CLI), "-H", "127.0.0.1", "-P", str(self.ports.esl), "-p", self.password,
                          "-x", command], timeout)

    def _run(self, cmd: list[str], timeout: float) -> str:
        result = subprocess.run(cmd, cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=timeout)
        with self.log.open("a", encoding="utf-8") as log:
            shown = " ".join(cmd).replace(self.password, "<esl password>")
            log.write(f"$ {shown}\n{result.stdout}{result.stderr}\n")
        assert result.returncode == 0, f"{' '.join(cmd[:4])} failed ({result.returncode}):\n{result.stderr}"
        return result.stdout

    # -- the documented deployment -------------------------------------------------------------
    def prepare(self, menu_yaml: str) -> None:
        """Database, demo data and a 24/7 menu, the switch configuration, the directory, prompts, hold music."""
        self.hotline("db", "upgrade")
        self.hotline("demo-data", "--scale", "0.05", "--no-progress")
        publish_menu(self.db_url, self.root, menu_yaml)
        sets = [arg for name, value in self.site_values().items() for arg in ("--set", f"{name}={value}")]
        self.hotline("freeswitch", "install", "--conf", str(self.conf), *sets)
        shown = self.hotline("freeswitch", "directory", "--conf", str(self.conf), "--show")
        self.phone_passwords = dict(re.findall(r"^(\d+)\s+\d+\s+(\S+)", shown, re.M))
        self.hotline("prompts", "render", "--no-progress", timeout=300)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(self.moh_dir / "hold.wav"),
                        "synth", "4", "sine", "440", "sine", "554", "remix", "-", "gain", "-12"], check=True)

    def fs_command(self) -> list[str]:
        cmd = [str(FREESWITCH), "-nonat", "-nocal", "-nc", "-nf", "-conf", str(self.conf)]
        for name in FS_DIRS:
            cmd += [f"-{name}", str(self.fs / name)]
        return cmd

    def start_switch(self, timeout: float = 60.0) -> None:
        for name in FS_DIRS:
            (self.fs / name).mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as log:
            log.write("$ " + " ".join(self.fs_command()) + " &\n")
        self.switch = subprocess.Popen(self.fs_command(), cwd=self.root, stdout=subprocess.DEVNULL,
                                       stderr=(self.fs / "stderr.log").open("wb"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.switch.poll() is None, f"freeswitch exited ({self.switch.returncode}):\n{self.switch_log()}"
            try:
                from freeswitch.esl.blocking import BlockingEsl

                with BlockingEsl("127.0.0.1", self.ports.esl, self.password, timeout=2) as esl:
                    status = esl.api("status")
                    if "is ready" in status and "RUNNING" in esl.api("sofia status"):
                        return
            except (OSError, ConnectionError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"freeswitch not ready after {timeout}s:\n{self.switch_log()}")

    def switch_log(self, lines: int = 60) -> str:
        path = self.fs / "log" / "freeswitch.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def start_engine(self, timeout: float = 60.0) -> None:
        """``hotline run --no-web`` in freeswitch mode; returns once it is connected and listening."""
        log = self.var / f"engine-{len(self.engine_logs) + 1}.log"
        self.engine_logs.append(log)
        with self.log.open("a", encoding="utf-8") as commands:
            commands.write(f"$ {HOTLINE} run --no-web  (log {log.name})\n")
        self.engine = subprocess.Popen([HOTLINE, "run", "--no-web"], cwd=self.root, env=self.env(),
                                       stdout=log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.engine.poll() is None, f"the engine exited ({self.engine.returncode}):\n{self.engine_log()}"
            text = log.read_text(errors="replace") if log.exists() else ""
            if "connected to FreeSWITCH" in text and "Hotline engine running" in text:
                return
            time.sleep(0.2)
        raise AssertionError(f"engine not up after {timeout}s:\n{self.engine_log()}")

    def engine_log(self, lines: int = 80) -> str:
        if not self.engine_logs:
            return ""
        text = self.engine_logs[-1].read_text(errors="replace") if self.engine_logs[-1].exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill_engine(self) -> None:
        """SIGKILL: no goodbye to the switch, no stop hooks -- a crash."""
        if self.engine is not None and self.engine.poll() is None:
            self.engine.send_signal(signal.SIGKILL)
            self.engine.wait(10)

    def stop(self) -> None:
        end_process(self.engine, 15)
        end_process(self.switch, 20)


def end_process(process: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM, ``grace`` seconds to exit, then SIGKILL (this process's own child, by its handle)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def publish_menu(db_url: str, folder: Path, text: str) -> None:
    """Publish a menu (YAML) as the newest version: what the admin's menu editor does."""
    from crm_core.db import make_engine, session_factory, transaction
    from ivr.menu import load_yaml
    from ivr.menu.store import import_and_publish

    path = folder / "menu.yaml"
    path.write_text(text, encoding="utf-8")
    engine = make_engine(db_url)
    try:
        with transaction(session_factory(engine)) as session:
            import_and_publish(session, load_yaml(path), by="real-switch test")
    finally:
        engine.dispose()


def demo_menu_all_day() -> str:
    """The demo menu (menus/demo.yaml) open every hour of the week, so the test does not depend on the clock."""
    import yaml

    source = Path(__file__).resolve().parents[2] / "menus" / "demo.yaml"
    menu = yaml.safe_load(source.read_text(encoding="utf-8"))
    menu["business_hours"]["weekly"] = {day: ["00:00-23:59"] for day in
                                        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    menu["business_hours"]["holidays"] = []
    return yaml.safe_dump(menu, allow_unicode=True, sort_keys=False)
