"""The previous-log fetcher: once per restart, bounded, rate limited, degrading on 403."""

from __future__ import annotations

import asyncio
import logging

import pytest

from crashloop_exporter.classify.redact import EXAMPLES, FORMS
from crashloop_exporter.errors import ApiError, ApiTimeoutError
from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.kube.logs import LogFetcher, LogResult, TokenBucket
from crashloop_exporter.kube.stats import WatchStats

from .helpers import wait_until
from .kubefake import FakeApi, Hang, Pause, Reply, Stream, status


def _path(pod: str, namespace: str = "shop") -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{pod}/log"


def _fetcher(client: KubeClient, stats: WatchStats, **kw: object) -> LogFetcher:
    opts: dict[str, object] = {"tail_lines": 50, "limit_bytes": 2048, "concurrency": 4, "rate_per_second": 0}
    opts.update(kw)
    return LogFetcher(client, stats=stats, **opts)  # type: ignore[arg-type]


async def _fetch(f: LogFetcher, pod: str, restart: int = 1, container: str = "app") -> LogResult:
    return await f.fetch(namespace="shop", pod=pod, pod_uid=f"uid-{pod}", container=container, restart_count=restart)


async def test_fetches_once_per_pod_container_and_restart(fake: FakeApi, client: KubeClient) -> None:
    """A second fetch for the same restart is skipped without a request; the next restart is fetched again."""
    fake.script("log", _path("web"), Reply(200, b"Traceback: first\n"), Reply(200, b"Traceback: second\n"))
    stats = WatchStats()
    f = _fetcher(client, stats)
    assert await _fetch(f, "web", 3) == LogResult("ok", "Traceback: first\n")
    assert await _fetch(f, "web", 3) == LogResult("skipped")
    assert await _fetch(f, "web", 4) == LogResult("ok", "Traceback: second\n")
    assert len(fake.seen("log")) == 2
    q = fake.seen("log")[0].query
    assert (q["previous"], q["container"], q["tailLines"], q["limitBytes"]) == ("true", "app", "50", "2048")
    snap = stats.snapshot().log_fetches
    assert (snap["ok"], snap["skipped"]) == (2, 1)


async def test_dedup_memory_is_bounded(fake: FakeApi, client: KubeClient) -> None:
    """Only the newest dedup keys are kept: the oldest key is forgotten and may be fetched again."""
    fake.script("log", _path("p"), *[Reply(200, b"x")] * 4)
    f = _fetcher(client, WatchStats(), dedup_keys=2)
    for restart in (1, 2, 3):
        assert (await _fetch(f, "p", restart)).result == "ok"
    assert (await _fetch(f, "p", 3)).result == "skipped"
    assert (await _fetch(f, "p", 1)).result == "ok"  # forgotten, so fetched again


async def test_limit_bytes_is_honoured_even_if_the_server_ignores_it(fake: FakeApi, client: KubeClient) -> None:
    """A server that sends more than limitBytes is cut off at limit_bytes."""
    fake.script("log", _path("big"), Reply(200, b"y" * 1_000_000))
    result = await _fetch(_fetcher(client, WatchStats(), limit_bytes=1024), "big")
    assert result.result == "ok" and result.text is not None
    assert len(result.text.encode()) <= 1024


async def test_concurrency_is_bounded(fake: FakeApi, client: KubeClient) -> None:
    """No more than `concurrency` fetches are in flight at once; the rest wait and still succeed."""
    for i in range(8):
        fake.script("log", _path(f"p{i}"), Reply(200, b"log", delay=0.05))
    f = _fetcher(client, WatchStats(), concurrency=3)
    results = await asyncio.gather(*(_fetch(f, f"p{i}") for i in range(8)))
    assert [r.result for r in results] == ["ok"] * 8
    assert 1 <= fake.max_in_flight <= 3


async def test_a_long_queue_is_rate_limited_instead_of_growing(fake: FakeApi, client: KubeClient) -> None:
    """When max_queue fetches already wait, further ones return rate_limited at once (and may retry later)."""
    for i in range(5):
        fake.script("log", _path(f"p{i}"), Reply(200, b"log", delay=0.02))
    stats = WatchStats()
    f = _fetcher(client, stats, concurrency=1, max_queue=2)
    results = await asyncio.gather(*(_fetch(f, f"p{i}") for i in range(5)))
    assert sorted(r.result for r in results) == ["ok", "ok", "ok", "rate_limited", "rate_limited"]
    assert stats.snapshot().log_fetches["rate_limited"] == 2
    limited = next(i for i, r in enumerate(results) if r.result == "rate_limited")
    assert len(fake.seen("log")) == 3
    assert (await _fetch(f, f"p{limited}")).result == "ok"  # the key was released, so it is fetched now
    assert len(fake.seen("log")) == 4


async def test_rate_limit_waits_rather_than_drops(fake: FakeApi, client: KubeClient) -> None:
    """With a token bucket of 50/s, a burst above it waits for tokens and every fetch succeeds."""
    for i in range(55):
        fake.script("log", _path(f"p{i}"), Reply(200, b"log"))
    f = _fetcher(client, WatchStats(), concurrency=64 // 2, rate_per_second=50, max_queue=100)
    results = await asyncio.gather(*(_fetch(f, f"p{i}") for i in range(55)))
    assert {r.result for r in results} == {"ok"}


async def test_token_bucket_spaces_starts_at_the_rate() -> None:
    """After the burst is used up, each start waits 1/rate seconds (on an injected clock)."""
    now = [0.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(rate=4.0, burst=2.0, clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(5):
        await bucket.acquire()
    assert sleeps == pytest.approx([0.25, 0.25, 0.25])


async def test_forbidden_warns_once_and_pauses_fetching_then_probes_again(
    fake: FakeApi, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A 403 warns once; later fetches are forbidden without requests until the cooldown ends and one probe goes out."""
    now = [1000.0]
    fake.script("log", _path("a"), Reply(403, status(403, "Forbidden", 'pods "a" is forbidden: cannot get pods/log')))
    stats = WatchStats()
    f = _fetcher(client, stats, clock=lambda: now[0], forbidden_cooldown=600.0)
    with caplog.at_level(logging.WARNING, logger="crashloop_exporter.kube.logs"):
        assert (await _fetch(f, "a")).result == "forbidden"
        assert (await _fetch(f, "b")).result == "forbidden"
        assert (await _fetch(f, "c")).result == "forbidden"
    assert len(fake.seen("log")) == 1
    warnings = [r for r in caplog.records if "no RBAC for pods/log" in r.getMessage()]
    assert len(warnings) == 1
    assert stats.snapshot().log_fetches["forbidden"] == 3
    now[0] += 601
    fake.script("log", _path("b"), Reply(200, b"granted now"))
    assert await _fetch(f, "b") == LogResult("ok", "granted now")
    assert len(fake.seen("log")) == 2


@pytest.mark.parametrize(
    ("reply", "result"),
    [
        (Reply(400, status(400, "BadRequest", 'previous terminated container "app" not found')), "not_found"),
        (Reply(404, status(404, "NotFound", 'pods "p" not found')), "not_found"),
        (Reply(500, status(500, "InternalError")), "error"),
        (Reply(429, status(429, "TooManyRequests"), headers={"Retry-After": "1"}), "rate_limited"),
    ],
    ids=["400-no-previous-container", "404-pod-gone", "500-error", "429-throttled"],
)
async def test_error_statuses_map_to_results(fake: FakeApi, client: KubeClient, reply: Reply, result: str) -> None:
    """400/404 are not_found, 429 is rate_limited, other errors are error; each is counted."""
    fake.script("log", _path("p"), reply)
    stats = WatchStats()
    assert await _fetch(_fetcher(client, stats), "p") == LogResult(result)
    assert stats.snapshot().log_fetches[result] == 1


async def test_log_text_is_never_logged(fake: FakeApi, client: KubeClient, caplog: pytest.LogCaptureFixture) -> None:
    """Even at debug level, the fetched log text does not appear in the exporter's own logs."""
    secret = "password=hunter2-very-secret"
    fake.script("log", _path("p"), Reply(200, f"crash {secret}\n".encode()))
    with caplog.at_level(logging.DEBUG):
        result = await _fetch(_fetcher(client, WatchStats()), "p")
    assert result.text is not None and secret in result.text
    assert all(secret not in r.getMessage() for r in caplog.records)


async def test_terminated_never_restarted_container_log_is_the_current_one(fake: FakeApi, client: KubeClient) -> None:
    """previous=False asks for the current run's log (a failed restartPolicy=Never pod has no previous)."""
    fake.script("log", _path("job-1"), Reply(200, b"ERROR: boom\n"))
    f = _fetcher(client, WatchStats())
    result = await f.fetch(
        namespace="shop", pod="job-1", pod_uid="uid-job-1", container="app", restart_count=0, previous=False
    )
    assert result == LogResult("ok", "ERROR: boom\n")
    assert fake.seen("log")[0].query.get("previous", "false") == "false"


_LEAKS = [*((f.name, f.example, f.secret) for f in FORMS), *((e[0], e[1], e[2]) for e in EXAMPLES)]


def _leak_body(kind: str, line: str) -> dict[str, object] | bytes:
    """What a kubelet or proxy answers with when the container's last output rides in the error."""
    text = f"Get container logs: last output before the failure:\n{line}\n" + "padding " * 40
    if kind == "status":
        return status(500, "InternalError", text * 100)  # a Status message up to 64 KiB
    return text.encode()


@pytest.mark.parametrize("kind", ["status", "plain"])
@pytest.mark.parametrize(("line", "secret"), [c[1:] for c in _LEAKS], ids=[c[0] for c in _LEAKS])
async def test_log_error_bodies_never_leak_credentials_into_our_log(
    fake: FakeApi, client: KubeClient, caplog: pytest.LogCaptureFixture, kind: str, line: str, secret: str
) -> None:
    """A 500 from pods/log whose body quotes the container's output: the WARNING names the status,
    and neither the credential nor more than a short message reaches the exporter's log."""
    fake.script("log", _path("p"), Reply(500, _leak_body(kind, line)))
    with caplog.at_level(logging.DEBUG):
        assert await _fetch(_fetcher(client, WatchStats()), "p") == LogResult("error")
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "500" in warning.getMessage()
    assert len(warning.getMessage()) < 600
    assert "\n" not in warning.getMessage()
    assert all(secret not in r.getMessage() for r in caplog.records)


async def test_api_error_exception_carries_a_short_redacted_message(fake: FakeApi, client: KubeClient) -> None:
    """ApiError built from an error body keeps status and reason, and at most ~200 characters of
    redacted message, whatever the body: callers print it and log it."""
    body = status(503, "ServiceUnavailable\n<script>", "password=hunter2 sk_live_51H8aBcDeFgHiJkLmN " + "x" * 70_000)
    fake.script("log", _path("p"), Reply(500, body))
    with pytest.raises(ApiError) as info:
        await client.pod_log("shop", "p", container="app", tail_lines=1, limit_bytes=10)
    e = info.value
    assert (e.status, e.reason) == (500, "Internal Server Error")
    assert "hunter2" not in str(e) and "sk_live_51H8aBcDeFgHiJkLmN" not in str(e)
    assert len(e.message) <= 260 and "\n" not in e.message


FIRST_BYTE = 1.5
"""First-byte timeout of the hung-node tests: long enough for ten local answers, short for a test."""


async def _fetch_on(f: LogFetcher, pod: str, node: str) -> LogResult:
    return await f.fetch(namespace="shop", pod=pod, pod_uid=f"uid-{pod}", container="app", restart_count=1, node=node)


async def test_hung_logs_of_one_node_leave_the_other_nodes_their_slots(
    fake: FakeApi, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Four hung log requests on node A: node B's ten logs all arrive while A's still hang, then A's
    time out at the first-byte timeout, are counted as `timeout` and logged once for the node."""
    # Two hang before the response headers, two after them (a 200 whose body never starts).
    for i in range(4):
        fake.script("log", _path(f"a{i}"), Reply(200, b"never", delay=60) if i % 2 else Stream([Hang()]))
    for i in range(10):
        fake.script("log", _path(f"b{i}"), Reply(200, f"ModuleNotFoundError: No module named 'b{i}'\n".encode()))
    stats = WatchStats()
    f = _fetcher(client, stats, concurrency=4, node_concurrency=2, first_byte_timeout=FIRST_BYTE)
    with caplog.at_level(logging.WARNING, logger="crashloop_exporter.kube.logs"):
        hung = [asyncio.create_task(_fetch_on(f, f"a{i}", "node-a")) for i in range(4)]
        await wait_until(lambda: len(fake.seen("log")) >= 2, what="node A's first log requests to hang")
        answered = await asyncio.gather(*(_fetch_on(f, f"b{i}", "node-b") for i in range(10)))
        still_hung = [not t.done() for t in hung]
        results = await asyncio.wait_for(asyncio.gather(*hung), timeout=30)
    assert answered == [LogResult("ok", f"ModuleNotFoundError: No module named 'b{i}'\n") for i in range(10)]
    assert still_hung == [True] * 4, "node B's logs waited behind node A's hung requests"
    assert [r.result for r in results] == ["timeout"] * 4
    snap = stats.snapshot().log_fetches
    assert (snap["ok"], snap["timeout"]) == (10, 4)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "node node-a" in warnings[0], warnings


async def test_waiting_for_a_hung_node_holds_no_global_slot(fake: FakeApi, client: KubeClient) -> None:
    """Fetches queued behind their own node's hung ones wait for that node's slot, not for a global
    one: with one global slot left, a later fetch on another node gets it first."""
    for i in range(3):
        fake.script("log", _path(f"a{i}"), Stream([Hang()]))
    fake.script("log", _path("b0"), Reply(200, b"ok\n"))
    f = _fetcher(client, WatchStats(), concurrency=2, node_concurrency=1, first_byte_timeout=FIRST_BYTE)
    hung = [asyncio.create_task(_fetch_on(f, f"a{i}", "node-a")) for i in range(3)]
    await wait_until(lambda: len(fake.seen("log")) >= 1, what="node A's first log request to hang")
    assert await _fetch_on(f, "b0", "node-b") == LogResult("ok", "ok\n")
    assert len(fake.seen("log")) == 2 and not any(t.done() for t in hung)
    assert [r.result for r in await asyncio.wait_for(asyncio.gather(*hung), timeout=30)] == ["timeout"] * 3


async def test_a_timed_out_key_may_be_fetched_again(fake: FakeApi, client: KubeClient) -> None:
    """A timeout learned nothing: the same restart may be asked again, and an answer ends the node's silence."""
    fake.script("log", _path("a"), Stream([Hang()]), Reply(200, b"back\n"))
    stats = WatchStats()
    f = _fetcher(client, stats, first_byte_timeout=0.5)
    assert (await _fetch_on(f, "a", "node-a")).result == "timeout"
    assert await _fetch_on(f, "a", "node-a") == LogResult("ok", "back\n")
    assert stats.snapshot().log_fetches["skipped"] == 0


async def test_first_byte_timeout_bounds_each_wait_not_the_whole_read(fake: FakeApi, client: KubeClient) -> None:
    """A log that trickles in faster than the first-byte timeout is read whole; one that stops is an ApiTimeoutError."""
    trickle: list[bytes | Pause] = []
    for i in range(5):
        trickle += [f"line {i}\n".encode(), Pause(0.2)]
    fake.script("log", _path("slow"), Stream([*trickle]), Stream([b"half a log", Hang()]))
    text = await client.pod_log("shop", "slow", container="app", tail_lines=10, limit_bytes=4096,
                                first_byte_timeout=0.6)
    assert text == "".join(f"line {i}\n" for i in range(5))
    with pytest.raises(ApiTimeoutError):
        await asyncio.wait_for(
            client.pod_log("shop", "slow", container="app", tail_lines=10, limit_bytes=4096, first_byte_timeout=0.6),
            timeout=30,
        )
