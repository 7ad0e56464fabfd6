"""`serve` flags and env vars map onto Settings with production defaults and bounded values."""

from __future__ import annotations

import argparse
import os

import pytest

from crashloop_exporter.cli.serve import add_serve_flags, settings_from_args
from crashloop_exporter.errors import InputError
from crashloop_exporter.kube.watch import Backoff, watchers_for
from crashloop_exporter.settings import DEFAULT_PORT, Settings


def _settings(*argv: str) -> Settings:
    parser = argparse.ArgumentParser()
    add_serve_flags(parser)
    return settings_from_args(parser.parse_args(list(argv)))


def test_watch_timing_defaults_are_production_values() -> None:
    """Without flags the watch backs off 1 s doubling to 30 s, and a silent stream is hung after 360 s."""
    s = _settings()
    assert (s.watch_backoff_initial, s.watch_backoff_max, s.inactivity_timeout) == (1.0, 30.0, 360.0)
    assert s.list_page_size == 250
    assert s.watch_timeout_seconds == 300
    assert s.inactivity_timeout > s.watch_timeout_seconds, "a quiet healthy watch must end by the server's timeout"
    assert s == Settings(), "the flag defaults and the dataclass defaults must agree"


def test_contract_flags_keep_their_production_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public flags parse to the defaults deploy manifests and docs rely on, with no env set."""
    for name in [n for n in os.environ if n.startswith("CRASHLOOP_")]:
        monkeypatch.delenv(name)
    s = _settings()
    assert s.listen_address == f"0.0.0.0:{DEFAULT_PORT}" == "0.0.0.0:10079"
    assert (s.kubeconfig, s.context, s.rules_file) == (None, None, None)
    assert (s.namespaces, s.exclude_namespaces, s.label_selector) == ((), (), "")
    assert (s.no_logs, s.causes_endpoint) == (False, True)
    assert (s.log_tail_lines, s.log_limit_bytes) == (200, 65536)
    assert (s.shard, s.total_shards, s.new_series_holdback) == (0, 1, 60.0)
    assert (s.log_level, s.log_format) == ("info", "text")


def test_list_flags_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    """--namespaces and CRASHLOOP_EXCLUDE_NAMESPACES take `a, b,,c` as three names, blanks dropped."""
    monkeypatch.setenv("CRASHLOOP_EXCLUDE_NAMESPACES", "kube-system, monitoring,")
    s = _settings("--namespaces", "a, b,,c", "--no-causes-endpoint")
    assert (s.namespaces, s.exclude_namespaces) == (("a", "b", "c"), ("kube-system", "monitoring"))
    assert s.causes_endpoint is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--shard", "1"), "--shard 1: must be in 0..0 (--total-shards)"),
        (("--total-shards", "0"), "--total-shards 0: must be at least 1"),
        (("--namespaces", "a", "--exclude-namespaces", "a"), "--namespaces and --exclude-namespaces name the same"),
    ],
    ids=["shard-beyond-total", "no-shards", "namespace-both-ways"],
)
def test_cross_field_checks_stay_in_validate(argv: tuple[str, ...], message: str) -> None:
    """Checks spanning two flags still fail with one sentence naming both."""
    with pytest.raises(InputError) as e:
        _settings(*argv)
    assert message in str(e.value)


def test_watch_timing_flags_reach_every_watcher() -> None:
    """--watch-backoff-initial/--watch-backoff-max/--watch-inactivity-timeout configure each Watcher's loop."""
    s = _settings(
        "--watch-backoff-initial", "0.05", "--watch-backoff-max", "0.5", "--watch-inactivity-timeout", "20",
        "--list-page-size", "10",
    )
    watchers = watchers_for(s, client=None, handler=None, stats=_NullStats())  # type: ignore[arg-type]
    assert {w.resource for w in watchers} == {"pods", "events", "nodes", "services", "endpointslices"}
    for w in watchers:
        assert w._backoff == Backoff(initial=0.05, cap=0.5)
        assert w._inactivity_timeout == 20.0
        assert w._page_size == 10


def test_watch_timing_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """CRASHLOOP_WATCH_BACKOFF_INITIAL/_MAX and CRASHLOOP_WATCH_INACTIVITY_TIMEOUT work like the flags."""
    monkeypatch.setenv("CRASHLOOP_WATCH_BACKOFF_INITIAL", "0.1")
    monkeypatch.setenv("CRASHLOOP_WATCH_BACKOFF_MAX", "2")
    monkeypatch.setenv("CRASHLOOP_WATCH_INACTIVITY_TIMEOUT", "30")
    s = _settings()
    assert (s.watch_backoff_initial, s.watch_backoff_max, s.inactivity_timeout) == (0.1, 2.0, 30.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--watch-backoff-initial", "0"), "--watch-backoff-initial 0: must be 0.01..60 seconds"),
        (("--watch-backoff-initial", "2", "--watch-backoff-max", "1"), "--watch-backoff-max 1: must be 2..600"),
        (("--watch-backoff-max", "601"), "--watch-backoff-max 601: must be 1..600"),
        (("--watch-inactivity-timeout", "1"), "--watch-inactivity-timeout 1: must be 5..7200 seconds"),
        (("--list-page-size", "0"), "--list-page-size 0: must be 1..5000"),
    ],
    ids=["backoff-zero", "max-below-initial", "max-too-large", "inactivity-too-short", "page-too-small"],
)
def test_out_of_range_watch_timing_is_one_sentence(argv: tuple[str, ...], message: str) -> None:
    """An out-of-range watch timing fails validation with one sentence naming the flag and the range."""
    with pytest.raises(InputError) as e:
        _settings(*argv)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


class _NullStats:
    def register(self, resource: str, key: str) -> None:
        """Watchers register themselves; nothing to record here."""


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (Settings(log_fetch_concurrency=0), "--log-fetch-concurrency 0: must be 1..64"),
        (Settings(watch_timeout_seconds=5), "watch timeout 5: must be 10..3600 seconds"),
        (Settings(log_tail_lines=0), "--log-tail-lines 0: must be 1..10000"),
        (Settings(log_level="loud"), "--log-level 'loud': expected debug, info, warning or error"),
    ],
    ids=["concurrency", "watch-timeout", "tail-lines", "log-level"],
)
def test_settings_built_in_code_meet_the_same_bounds(settings: Settings, message: str) -> None:
    """validate() checks the bounds declared on each field, for Settings that never saw a flag (demo, tests)."""
    with pytest.raises(InputError) as e:
        settings.validate()
    assert str(e.value) == message
