"""Flags and their CRASHLOOP_* env vars come from Settings metadata, and bad values are one sentence."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from crashloop_exporter.cli import demo, diagnose
from crashloop_exporter.cli.flags import add_setting_flags, resolve_setting_flags
from crashloop_exporter.cli.main import main
from crashloop_exporter.settings import flag_fields

SHARED = ("--listen-address", "--new-series-holdback", "--rules-file", "--no-logs")

BAD_FLAGS = [
    (("--log-tail-lines", "abc"), "--log-tail-lines 'abc': expected an integer, 1..10000"),
    (("--new-series-holdback", "soon"), "--new-series-holdback 'soon': expected a number, 0..3600 seconds"),
    (("--log-limit-bytes", "10"), "--log-limit-bytes 10: must be 1024..16777216"),
    (("--shard", "-1"), "--shard -1: must be at least 0"),
    (("--log-level", "verbose"), "--log-level 'verbose': expected debug, info, warning or error"),
    (("--log-format", "xml"), "--log-format 'xml': expected text or json"),
    (("--listen-address", "nowhere"), "--listen-address 'nowhere': expected HOST:PORT"),
]
BAD_ENV = [
    ("CRASHLOOP_LOG_TAIL_LINES", "many",
     "--log-tail-lines 'many' (from CRASHLOOP_LOG_TAIL_LINES): expected an integer"),
    ("CRASHLOOP_WATCH_INACTIVITY_TIMEOUT", "1", "--watch-inactivity-timeout 1 (from CRASHLOOP_WATCH_INACTIVITY_TIMEOUT)"
     ": must be 5..7200 seconds"),
    ("CRASHLOOP_NO_LOGS", "maybe", "--no-logs 'maybe' (from CRASHLOOP_NO_LOGS): expected 1, 0, true, false, yes or no"),
    ("CRASHLOOP_NO_CAUSES_ENDPOINT", "", "--no-causes-endpoint '' (from CRASHLOOP_NO_CAUSES_ENDPOINT): expected 1, 0"),
    ("CRASHLOOP_LOG_LEVEL", "loud", "--log-level 'loud' (from CRASHLOOP_LOG_LEVEL): expected debug, info"),
    ("CRASHLOOP_SHARD", "", "--shard '' (from CRASHLOOP_SHARD): expected an integer, at least 0"),
]


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("CRASHLOOP_")]:
        monkeypatch.delenv(name)


def _one_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(("argv", "message"), BAD_FLAGS, ids=[a[0] for a, _ in BAD_FLAGS])
def test_bad_flag_value_is_one_line_exit_2(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-number, out-of-range, bad-choice or malformed flag value is one line naming the flag, exit 2."""
    _clean_env(monkeypatch)
    assert message in _one_error(capsys, ["serve", *argv])


@pytest.mark.parametrize(("name", "value", "message"), BAD_ENV, ids=[f"{n}={v}" for n, v, _ in BAD_ENV])
def test_bad_env_value_is_one_line_exit_2(
    name: str, value: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad CRASHLOOP_* value is one line naming the flag and the env var it came from, exit 2."""
    _clean_env(monkeypatch)
    monkeypatch.setenv(name, value)
    assert message in _one_error(capsys, ["serve"])


def test_bad_env_value_fails_the_subprocess_without_traceback() -> None:
    """Through the real entry point, CRASHLOOP_NO_LOGS=maybe is exit 2 and exactly one stderr line."""
    env = {"CRASHLOOP_NO_LOGS": "maybe", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "crashloop_exporter", "serve"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "crashloop-exporter serve: error: --no-logs 'maybe' (from CRASHLOOP_NO_LOGS): "
        "expected 1, 0, true, false, yes or no"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), ("Yes", True), ("0", False), ("false", False), ("NO", False)],
)
def test_boolean_env_accepts_exactly_the_six_words(
    value: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1/0/true/false/yes/no, any case, switch --no-logs on or off."""
    _clean_env(monkeypatch)
    monkeypatch.setenv("CRASHLOOP_NO_LOGS", value)
    parser = argparse.ArgumentParser()
    add_setting_flags(parser, ["no_logs"])
    args = parser.parse_args([])
    resolve_setting_flags(args)
    assert args.no_logs is expected


def test_every_flag_field_is_in_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --help` lists every Settings field that declares a flag as an option line, with its env var."""
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    options = set(re.findall(r"^\s{2}(--[a-z0-9][a-z0-9-]*)", out, flags=re.MULTILINE))
    words = set(out.split())
    for _, flag in flag_fields():
        assert flag.name in options, flag.name
        assert flag.env in words or f"{flag.env}=true)" in words or f"{flag.env})" in words, flag.env


@pytest.mark.parametrize("module", [demo, diagnose], ids=["demo", "diagnose"])
def test_demo_and_diagnose_share_flags_and_env_vars(
    module: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """demo and diagnose take serve's --rules-file/--no-logs (and demo --listen-address/--new-series-holdback)
    from the same declarations, so the same CRASHLOOP_* env vars set them."""
    _clean_env(monkeypatch)
    monkeypatch.setenv("CRASHLOOP_RULES_FILE", "/etc/rules.yaml")
    monkeypatch.setenv("CRASHLOOP_NO_LOGS", "yes")
    monkeypatch.setenv("CRASHLOOP_LISTEN_ADDRESS", "127.0.0.1:0")
    monkeypatch.setenv("CRASHLOOP_NEW_SERIES_HOLDBACK", "5")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    module.register(sub)  # type: ignore[attr-defined]
    name = module.__name__.rsplit(".", 1)[1]  # type: ignore[attr-defined]
    args = parser.parse_args([name])
    resolve_setting_flags(args)
    assert (args.rules_file, args.no_logs) == ("/etc/rules.yaml", True)
    if module is demo:
        assert (args.listen_address, args.new_series_holdback) == ("127.0.0.1:0", 5.0)
    args = parser.parse_args([name, "--rules-file", "mine.yaml"])
    resolve_setting_flags(args)
    assert args.rules_file == "mine.yaml", "the command line wins over the env var"
    helptext = sub.choices[name].format_help()
    for flag in SHARED if module is demo else SHARED[2:]:
        assert flag in helptext, flag


def test_demo_keeps_its_own_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without flags or env, demo listens on loopback and holds new series back 15 s, not serve's 60 s."""
    _clean_env(monkeypatch)
    parser = argparse.ArgumentParser()
    demo.register(parser.add_subparsers())
    args = parser.parse_args(["demo"])
    resolve_setting_flags(args)
    assert (args.listen_address, args.new_series_holdback) == (demo.DEFAULT_DEMO_ADDRESS, 15.0)
