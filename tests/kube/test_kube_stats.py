"""WatchStats: counters pre-filled per resource, synced per watcher set, snapshots are copies."""

from __future__ import annotations

from crashloop_exporter.kube.stats import EVENT_TYPES, LOG_RESULTS, RESTART_REASONS, WatchStats


def test_register_prefills_zero_series() -> None:
    """Registering a watcher creates zero counters for every event type and restart reason of its resource."""
    stats = WatchStats()
    stats.register("nodes", "/api/v1/nodes?")
    snap = stats.snapshot()
    assert {snap.events[("nodes", t)] for t in EVENT_TYPES} == {0}
    assert {snap.restarts[("nodes", r)] for r in RESTART_REASONS} == {0}
    assert snap.log_fetches == dict.fromkeys(LOG_RESULTS, 0)
    assert snap.synced == {"nodes": False}


def test_snapshot_is_a_copy() -> None:
    """Counting after a snapshot does not change the snapshot already taken."""
    stats = WatchStats(clock=lambda: 123.0)
    stats.register("pods", "k")
    stats.count_event("pods", "ADDED")
    before = stats.snapshot()
    stats.count_event("pods", "ADDED")
    stats.count_log_fetch("ok")
    assert before.events[("pods", "ADDED")] == 1
    assert before.log_fetches["ok"] == 0
    assert stats.snapshot().events[("pods", "ADDED")] == 2
    assert before.last_event_timestamp == {"pods": 123.0}


def test_ready_needs_every_watcher_of_every_resource() -> None:
    """ready() is false until every registered watcher listed once, and false with no watchers at all."""
    stats = WatchStats()
    assert not stats.ready()
    stats.register("pods", "ns-a")
    stats.register("pods", "ns-b")
    stats.register("nodes", "all")
    stats.mark_synced("pods", "ns-a")
    stats.mark_synced("nodes", "all")
    assert stats.synced("nodes") and not stats.synced("pods") and not stats.ready()
    stats.mark_synced("pods", "ns-b")
    assert stats.ready()
