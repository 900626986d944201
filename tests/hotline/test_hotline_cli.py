"""The hotline command: a configuration error is one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

from hotline.cli import COMMANDS, build_parser, main


def test_every_subcommand_is_listed_in_help():
    help_text = build_parser().format_help()
    for name in COMMANDS:
        assert name in help_text


def test_bad_database_url_exits_non_zero_with_a_clear_message(capsys, monkeypatch):
    monkeypatch.setenv("HOTLINE_DB_URL", "oracle://scott@db/orcl")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "unsupported database 'oracle'" in err


def test_console_script_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "hotline", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "demo-data" in result.stdout
