"""The list+watch loop against scripted streams over real HTTP: relists, resumes, backoff."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging

import orjson
import pytest

from crashloop_exporter.kube.client import KubeClient, WatchObject
from crashloop_exporter.kube.stats import WatchStats
from crashloop_exporter.kube.watch import Backoff, Watcher, watch_targets
from crashloop_exporter.settings import Settings

from .helpers import MakeWatcher, Recorder, RecordingSleep, running, wait_until
from .kubefake import Drop, FakeApi, Hang, Pause, Reply, Stream, bookmark, ev, obj, page, status

PODS = "/api/v1/pods"


async def test_list_is_paginated_page_by_page_and_watch_starts_at_its_resource_version(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """LIST pages use limit/continue and reach the handler page by page; the watch starts at the list rv."""
    fake.script("list", PODS, page("100", [obj("a", "90"), obj("b", "91")], cont="c1"), page("100", [obj("c", "92")]))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("d", "101")), Hang()]))
    rec, stats = Recorder(timeline=fake.timeline), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 1, what="the watch event arrives")
    lists = fake.seen("list")
    assert [(r.query.get("limit"), r.query.get("continue")) for r in lists] == [("2", None), ("2", "c1")]
    assert [c[2] for c in rec.calls if c[0] == "relist_item"] == ["default/a", "default/b", "default/c"]
    watch = fake.seen("watch")[0].query
    assert watch["resourceVersion"] == "100"
    assert watch["allowWatchBookmarks"] == "true"
    assert watch["timeoutSeconds"] == "60"
    assert sorted(rec.store) == ["default/a", "default/b", "default/c", "default/d"]
    assert [c[0] for c in rec.calls[:5]] == ["relist_begin", "relist_item", "relist_item", "relist_item", "relist_end"]
    assert stats.synced("pods")
    assert stats.snapshot().events[("pods", "ADDED")] == 1


class _WaitsForPageTwo(Recorder):
    """Applying page 1's last item waits until the fake API has been asked for page 2."""

    def __init__(self, fake: FakeApi) -> None:
        super().__init__()
        self.fake = fake

    async def relist_item(self, resource: str, raw: WatchObject) -> None:
        await super().relist_item(resource, raw)
        if self.calls[-1][2] == "default/b":
            await wait_until(lambda: len(self.fake.seen("list")) == 2, what="page 2 requested while page 1 is applied")


async def test_the_next_list_page_is_fetched_while_this_one_is_applied(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """The continue request goes out before the handler has taken the whole page (the API server
    renders it meanwhile); the pages still reach the handler in order."""
    fake.script("list", PODS, page("100", [obj("a", "90"), obj("b", "91")], cont="c1"), page("100", [obj("c", "92")]))
    fake.script("watch", PODS, Stream([Hang()]))
    rec, stats = _WaitsForPageTwo(fake), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: stats.synced("pods"), what="the LIST completes")
    assert [c[2] for c in rec.calls if c[0] == "relist_item"] == ["default/a", "default/b", "default/c"]


async def test_a_list_abandoned_with_a_page_in_flight_cancels_the_fetch(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """A Watcher stopped while the next page is still on its way leaves no fetch behind."""
    fake.script("list", PODS, page("100", [obj("a", "90"), obj("b", "91")], cont="c1"),
                Reply(200, page("100", [obj("c", "92")]).body, delay=30.0))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("list")) == 2, what="page 2 is requested")
        fetches = [t for t in asyncio.all_tasks() if "Watcher._page" in repr(t.get_coro())]
        assert fetches and not any(t.done() for t in fetches), fetches
    await wait_until(lambda: all(t.cancelled() for t in fetches), what="the page fetch is cancelled")
    assert [c[2] for c in rec.calls if c[0] == "relist_item"] == ["default/a", "default/b"]


async def test_expired_continue_token_starts_the_list_over(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A 410 on a continue token restarts the LIST from its first page (counted as a gone restart)."""
    fake.script(
        "list", PODS,
        page("100", [obj("a", "90"), obj("b", "91")], cont="c1"),
        Reply(410, status(410, "Expired", "The provided continue parameter is too old")),
        page("200", [obj("a", "90"), obj("b", "91")], cont="c2"),
        page("200", [obj("c", "150")]),
    )
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 1, what="the watch starts")
    assert [r.query.get("continue") for r in fake.seen("list")] == [None, "c1", None, "c2"]
    assert fake.seen("watch")[0].query["resourceVersion"] == "200"
    assert rec.count("relist_begin") == 2 and rec.count("relist_end") == 1
    assert sorted(rec.store) == ["default/a", "default/b", "default/c"]
    assert stats.snapshot().restarts[("pods", "gone")] == 1


async def test_bookmark_advances_the_resource_version_only(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A BOOKMARK is not handed to the handler but the next watch resumes from its resourceVersion."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([bookmark("150")]))  # then a clean close
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 2, what="the re-watch")
    assert fake.seen("watch")[1].query["resourceVersion"] == "150"
    assert rec.count("event") == 0
    assert len(fake.seen("list")) == 1
    snap = stats.snapshot()
    assert snap.events[("pods", "BOOKMARK")] == 1
    assert snap.restarts[("pods", "timeout")] == 1


async def test_clean_server_timeout_rewatches_from_last_rv_without_relist_or_sleep(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """When the server ends a healthy watch (timeoutSeconds), the loop watches again at once from the last event."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("a", "101")), ev("MODIFIED", obj("a", "102"))]))
    sleep = RecordingSleep()
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats, sleep=sleep)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 2, what="the re-watch")
    assert fake.seen("watch")[1].query["resourceVersion"] == "102"
    assert len(fake.seen("list")) == 1
    assert sleep.delays == []


async def test_410_error_event_relists_and_relist_end_reconciles_deletions(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """An ERROR event with code 410 relists; relist_end lets the handler drop objects deleted meanwhile."""
    fake.script("list", PODS, page("100", [obj("a", "90"), obj("b", "91")]), page("300", [obj("a", "90")]))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("c", "101")),
                                       ev("ERROR", status(410, "Expired", "too old resource version: 101 (250)"))]))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 2, what="the watch after the relist")
    assert len(fake.seen("list")) == 2
    assert fake.seen("watch")[1].query["resourceVersion"] == "300"
    assert sorted(rec.store) == ["default/a"]  # b and c vanished while we were not watching
    assert rec.count("relist_end") == 2
    snap = stats.snapshot()
    assert snap.restarts[("pods", "gone")] == 1
    assert snap.events[("pods", "ERROR")] == 1


async def test_http_410_on_the_watch_request_relists(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A 410 status on the watch request itself means the rv is compacted away: relist."""
    fake.script("list", PODS, page("100", [obj("a", "90")]), page("400", [obj("a", "90")]))
    fake.script("watch", PODS, Reply(410, status(410, "Gone", "too old resource version")))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 2, what="the watch after the relist")
    assert fake.seen("watch")[1].query["resourceVersion"] == "400"
    assert stats.snapshot().restarts[("pods", "gone")] == 1


async def test_drop_mid_line_resumes_from_last_complete_event_without_loss_or_duplicates(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """A cut mid-event re-watches from the last complete event; the cut event arrives exactly once."""
    a1 = orjson.dumps(ev("ADDED", obj("a", "101"))) + b"\n"
    a2 = orjson.dumps(ev("MODIFIED", obj("a", "102"))) + b"\n"
    # a1 itself is split across two chunks; a2 is cut half-way and the connection dropped.
    fake.script("list", PODS, page("100", []))
    fake.script(
        "watch", PODS,
        Stream([a1[:10], Pause(), a1[10:], Pause(), a2[:15], Pause(), Drop()]),
        Stream([ev("MODIFIED", obj("a", "102")), ev("ADDED", obj("b", "103")), Hang()]),
    )
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 3, what="three events")
    assert fake.seen("watch")[1].query["resourceVersion"] == "101"
    assert rec.events == [
        ("ADDED", "default/a", "101"), ("MODIFIED", "default/a", "102"), ("ADDED", "default/b", "103")
    ]
    assert len(fake.seen("list")) == 1
    assert stats.snapshot().restarts[("pods", "dropped")] == 1


async def test_garbage_lines_are_counted_and_skipped(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """Lines that are not JSON watch events are skipped and counted as decode; the stream goes on."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("a", "101")), b"<html>proxy error</html>\n", b'["x"]\n',
                                       b"\n", ev("ADDED", obj("b", "102")), Hang()]))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 2, what="both good events")
    snap = stats.snapshot()
    assert snap.skipped[("pods", "decode")] == 2
    assert len(fake.seen("watch")) == 1
    assert sum(snap.restarts.values()) == 0


async def test_oversized_line_relists(fake: FakeApi, client: KubeClient) -> None:
    """A watch line beyond the line buffer bound is a decode restart that relists (the event is lost otherwise)."""
    small = KubeClient(client.credentials, max_line_bytes=1024)
    big = obj("big", "101")
    big["metadata"]["annotations"] = {"x": "y" * 4096}
    fake.script("list", PODS, page("100", []), page("200", [big]))
    fake.script("watch", PODS, Stream([ev("ADDED", big), Hang()]))
    rec, stats = Recorder(), WatchStats()
    async with small:
        w = Watcher(small, resource="pods", path=PODS, handler=rec, stats=stats, backoff=Backoff(0.01, 0.02),
                    sleep=RecordingSleep())
        async with running(w.run()):
            await wait_until(lambda: len(fake.seen("watch")) == 2, what="the watch after the relist")
    assert "default/big" in rec.store
    assert stats.snapshot().restarts[("pods", "decode")] == 1


async def test_429_retry_after_is_honoured(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A 429 with Retry-After sleeps at least that long before retrying (beyond the small backoff)."""
    fake.script("list", PODS, Reply(429, status(429, "TooManyRequests"), headers={"Retry-After": "7"}), page("100", []))
    sleep = RecordingSleep()
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats, sleep=sleep)
    async with running(w.run()):
        await wait_until(lambda: stats.synced("pods"), what="synced after the retry")
    assert sleep.delays[0] >= 7
    assert stats.snapshot().restarts[("pods", "too_many_requests")] == 1


async def test_500_storm_backs_off_exponentially_and_recovers(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """Repeated 500s back off with doubling delays up to the cap, then the list succeeds and the watcher syncs."""
    storm = 5
    fake.script("list", PODS, *[Reply(500, status(500, "InternalError"))] * storm, page("100", [obj("a", "1")]))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("b", "101")), Hang()]))
    backoff = Backoff(initial=0.01, cap=0.08)
    sleep = RecordingSleep()
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats, sleep=sleep, backoff=backoff)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 1, what="the watch after the storm")
    assert sleep.delays == [0.01, 0.02, 0.04, 0.08, 0.08]  # ceilings 0.01 * 2**n, capped (rand pinned to 1)
    assert max(sleep.delays) == backoff.cap
    assert stats.snapshot().restarts[("pods", "error")] == storm
    assert stats.synced("pods")


async def test_inactivity_timeout_catches_a_silent_hang(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A watch that sends nothing (not even bookmarks) within the inactivity timeout is abandoned and resumed."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("a", "101")), Hang()]))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats, inactivity_timeout=0.2)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 2, what="the re-watch after the stall")
    assert fake.seen("watch")[1].query["resourceVersion"] == "101"
    assert stats.snapshot().restarts[("pods", "stalled")] >= 1
    assert len(fake.seen("list")) == 1


async def test_other_error_event_backs_off_and_rewatches_from_last_rv(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A non-410 ERROR event is an error restart with backoff, resuming from the last rv without a relist."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([ev("ADDED", obj("a", "101")), ev("ERROR", status(500, "InternalError"))]))
    sleep = RecordingSleep()
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats, sleep=sleep)
    async with running(w.run()):
        await wait_until(lambda: len(fake.seen("watch")) == 2, what="the re-watch")
    assert fake.seen("watch")[1].query["resourceVersion"] == "101"
    assert len(fake.seen("list")) == 1
    assert len(sleep.delays) == 1
    assert stats.snapshot().restarts[("pods", "error")] == 1


async def test_unknown_event_type_is_skipped(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """An event type the loop does not know is counted as skipped and does not reach the handler."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([ev("SURPRISE", obj("x", "101")), ev("ADDED", obj("a", "102")), Hang()]))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 1, what="the good event")
    assert rec.events == [("ADDED", "default/a", "102")]
    assert stats.snapshot().skipped[("pods", "unknown_type")] == 1


async def test_handler_error_skips_one_object_and_the_stream_continues(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """A handler exception on one object is counted as handler_error; later objects still arrive."""
    fake.script("list", PODS, page("100", [obj("bad", "1"), obj("a", "2")]))
    fake.script("watch", PODS, Stream([ev("MODIFIED", obj("bad", "101")), ev("ADDED", obj("b", "102")), Hang()]))
    rec, stats = Recorder(fail_on="bad"), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 1, what="the event after the failing one")
    assert sorted(rec.store) == ["default/a", "default/b"]
    assert stats.snapshot().skipped[("pods", "handler_error")] == 2
    assert w.resource_version == "102"


async def test_unauthorized_watch_is_counted_and_retried(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """A 401 that survives a credential reload is an unauthorized restart; the loop keeps trying."""
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Reply(401, status(401, "Unauthorized")), Reply(401, status(401, "Unauthorized")),
                Stream([ev("ADDED", obj("a", "101")), Hang()]))
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: len(rec.events) == 1, what="the event after re-auth")
    assert stats.snapshot().restarts[("pods", "unauthorized")] == 1


async def test_synced_waits_for_every_watcher_of_a_resource(fake: FakeApi, make_watcher: MakeWatcher) -> None:
    """With a watcher per namespace, pods are synced once every namespace listed; scopes reach the handler."""
    a, b = "/api/v1/namespaces/a/pods", "/api/v1/namespaces/b/pods"
    fake.script("list", a, page("10", [obj("p", "1", namespace="a")]))
    fake.script("list", b, Reply(500, status(500, "InternalError")), page("20", [obj("q", "2", namespace="b")]))
    rec, stats = Recorder(), WatchStats()
    wa = make_watcher(rec, stats, path=a, namespace="a")
    wb = make_watcher(rec, stats, path=b, namespace="b", sleep=RecordingSleep())
    assert not stats.ready()
    async with running(wa.run()):
        await wait_until(lambda: len(fake.seen("watch", a)) == 1, what="namespace a watches")
        assert not stats.synced("pods")
        async with running(wb.run()):
            await wait_until(lambda: stats.synced("pods"), what="both namespaces listed")
    assert stats.ready()
    assert ("relist_end", "pods", "a") in rec.calls and ("relist_end", "pods", "b") in rec.calls


def test_watch_targets_cluster_wide_with_exclusions_and_label_selector() -> None:
    """Without --namespaces: one cluster-wide pod and event watch, exclusions as field selectors, plus nodes."""
    s = Settings(exclude_namespaces=("kube-system", "monitoring"), label_selector="team=shop")
    t = {x.resource: x for x in watch_targets(s)}
    assert t["pods"].path == "/api/v1/pods"
    assert t["pods"].params == {"labelSelector": "team=shop",
                                "fieldSelector": "metadata.namespace!=kube-system,metadata.namespace!=monitoring"}
    assert t["events"].path == "/api/v1/events"
    assert t["events"].params == {
        "fieldSelector": "involvedObject.kind=Pod,metadata.namespace!=kube-system,metadata.namespace!=monitoring"}
    assert t["nodes"].path == "/api/v1/nodes" and t["nodes"].params == {}
    assert t["services"].path == "/api/v1/services" and t["services"].optional
    assert t["endpointslices"].path == "/apis/discovery.k8s.io/v1/endpointslices"
    assert t["endpointslices"].params == {
        "fieldSelector": "metadata.namespace!=kube-system,metadata.namespace!=monitoring"}
    assert len(watch_targets(s)) == 5
    assert len(watch_targets(dataclasses.replace(s, no_dependencies=True))) == 3


def test_watch_targets_per_namespace() -> None:
    """With --namespaces: one pod and one event watch per namespace (deduplicated), scoped, plus nodes."""
    targets = watch_targets(Settings(namespaces=("shop", "pay", "shop")))
    assert [(x.resource, x.path, x.namespace) for x in targets] == [
        ("pods", "/api/v1/namespaces/shop/pods", "shop"),
        ("events", "/api/v1/namespaces/shop/events", "shop"),
        ("services", "/api/v1/namespaces/shop/services", "shop"),
        ("endpointslices", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", "shop"),
        ("pods", "/api/v1/namespaces/pay/pods", "pay"),
        ("events", "/api/v1/namespaces/pay/events", "pay"),
        ("services", "/api/v1/namespaces/pay/services", "pay"),
        ("endpointslices", "/apis/discovery.k8s.io/v1/namespaces/pay/endpointslices", "pay"),
        ("nodes", "/api/v1/nodes", None),
    ]
    assert targets[1].params == {"fieldSelector": "involvedObject.kind=Pod"}
    assert targets[0].params == {}


def test_gc_is_paused_while_any_watcher_lists_and_restored_after() -> None:
    """Nested/concurrent lists keep the cyclic GC off until the last one ends, then restore it."""
    import gc

    from crashloop_exporter.kube.watch import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


async def test_error_event_message_is_redacted_and_short_in_our_log(
    fake: FakeApi, make_watcher: MakeWatcher, caplog: pytest.LogCaptureFixture
) -> None:
    """A watch ERROR event whose Status message carries a credential and kilobytes of text is
    logged with its code, the credential masked and the message cut short."""
    leak = "etcd said: redis://:hunter2@redis:6379/0 " + "blah " * 2000
    fake.script("list", PODS, page("100", []))
    fake.script("watch", PODS, Stream([ev("ERROR", status(500, "InternalError", leak))]))
    w = make_watcher(Recorder(), WatchStats(), sleep=RecordingSleep())
    with caplog.at_level(logging.DEBUG):
        async with running(w.run()):
            await wait_until(lambda: len(fake.seen("watch")) == 2, what="the re-watch")
    messages = [r.getMessage() for r in caplog.records if "ERROR event" in r.getMessage()]
    assert messages and all("hunter2" not in m and len(m) < 400 for m in messages)
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


async def test_after_the_list_the_collector_is_back_on_and_the_listed_state_is_frozen(
    fake: FakeApi, make_watcher: MakeWatcher
) -> None:
    """The LIST runs with the cyclic GC off; when it ends the GC is on again and what was alive
    is in the permanent generation, so later collections do not walk it (gc.freeze)."""
    fake.script("list", PODS, page("100", [obj("a", "90")]))
    fake.script("watch", PODS, Stream([Hang()]))
    gc.unfreeze()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    rec, stats = Recorder(), WatchStats()
    w = make_watcher(rec, stats)
    async with running(w.run()):
        await wait_until(lambda: stats.synced("pods"), what="the LIST completes")
        assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.unfreeze()
