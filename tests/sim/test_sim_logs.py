"""GET .../pods/{name}/log: the kubelet's previous/current rules, tailLines, limitBytes, timestamps."""

from __future__ import annotations

import re

from tests.sim.conftest import Sim

PAYMENT = "/api/v1/namespaces/production/pods/payment-service-7d9f4b8c6-xk2p9/log"
SEED_LINES = [
    "2024-03-15T02:14:22Z INFO  Starting payment-service v2.1.0",
    "2024-03-15T02:14:22Z INFO  Loading configuration...",
    "2024-03-15T02:14:22Z FATAL Missing required environment variable: STRIPE_SECRET_KEY",
    "2024-03-15T02:14:22Z FATAL Application startup failed. Exiting.",
]


async def test_previous_logs_of_the_seed_payment_service(sim: Sim) -> None:
    """After a crash, previous=true returns exactly the seed's four lines as text/plain."""
    sim.cluster.advance(5)
    async with sim.http.get(sim.url + PAYMENT, params={"previous": "true",
                                                       "container": "payment-service"}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        assert (await r.text()).splitlines() == SEED_LINES


async def test_no_previous_instance_is_a_400_with_the_kubelet_wording(sim: Sim) -> None:
    """previous=true on a container that never terminated is 400 `previous terminated container ... not found`."""
    status, body = await sim.get("/api/v1/namespaces/staging/pods/postgres-0/log", previous="true")
    assert status == 400
    assert body["reason"] == "BadRequest"
    assert body["message"] == 'previous terminated container "postgres" in pod "postgres-0" not found'


async def test_tail_lines_and_limit_bytes(sim: Sim) -> None:
    """tailLines keeps the last N lines; limitBytes cuts the output at N bytes, mid-line if need be."""
    sim.cluster.advance(5)
    _, tail = await sim.get(PAYMENT, previous="true", tailLines="2")
    assert tail.splitlines() == SEED_LINES[-2:]
    _, cut = await sim.get(PAYMENT, previous="true", limitBytes="30")
    assert cut == "\n".join(SEED_LINES).encode()[:30].decode()
    _, both = await sim.get(PAYMENT, previous="true", tailLines="1", limitBytes="20")
    assert both == SEED_LINES[-1][:20]
    _, none = await sim.get(PAYMENT, previous="true", tailLines="0")
    assert none == ""
    status, _ = await sim.get(PAYMENT, previous="true", limitBytes="0")
    assert status == 400


async def test_timestamps_prefix_each_line(sim: Sim) -> None:
    """timestamps=true prefixes each line with an RFC 3339 nanosecond timestamp and a space."""
    sim.cluster.advance(5)
    _, text = await sim.get(PAYMENT, previous="true", timestamps="true", tailLines="2")
    lines = text.splitlines()
    assert len(lines) == 2
    for line, seed in zip(lines, SEED_LINES[-2:], strict=True):
        stamp, _, rest = line.partition(" ")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", stamp)
        assert rest == seed


async def test_logs_in_back_off_and_while_running(sim: Sim) -> None:
    """In CrashLoopBackOff both current and previous show the crashed run; once restarted, previous
    still does while current is the new run."""
    sim.cluster.advance(3.5)  # started at 1 s, crashed at 2 s, restarted at the next sync (3 s)
    _, pod = await sim.get("/api/v1/namespaces/production/pods/payment-service-7d9f4b8c6-xk2p9")
    state = pod["status"]["containerStatuses"][0]
    assert "running" in state["state"] and state["restartCount"] == 1
    _, prev = await sim.get(PAYMENT, previous="true")
    assert prev.splitlines() == SEED_LINES
    sim.cluster.advance(2)
    _, pod = await sim.get("/api/v1/namespaces/production/pods/payment-service-7d9f4b8c6-xk2p9")
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    _, cur = await sim.get(PAYMENT)
    assert cur.splitlines() == SEED_LINES


async def test_container_must_be_named_in_multi_container_pods(sim: Sim) -> None:
    """Without `container`, a two-container pod is a 400 listing the choices; a wrong name is a 400."""
    path = "/api/v1/namespaces/production/pods/orders-api-6c9f8d7b5-h2qzr/log"
    status, body = await sim.get(path)
    assert status == 400
    assert body["message"] == ("a container name must be specified for pod orders-api-6c9f8d7b5-h2qzr, "
                               "choose one of: [api log-shipper]")
    status, body = await sim.get(path, container="nope")
    assert status == 400 and body["message"] == "container nope is not valid for pod orders-api-6c9f8d7b5-h2qzr"
    sim.cluster.advance(8)
    status, text = await sim.get(path, container="api", previous="true")
    assert status == 200 and "connect: connection refused" in text


async def test_waiting_container_has_no_logs_yet(sim: Sim) -> None:
    """A container that never started answers 400 `is waiting to start: <reason>`; a missing pod 404."""
    sim.cluster.advance(3)
    status, body = await sim.get("/api/v1/namespaces/staging/pods/accounts-api-5c7d8f9b6-h4kzt/log")
    assert status == 400
    assert body["message"] == ('container "api" in pod "accounts-api-5c7d8f9b6-h4kzt" is waiting to start: '
                               "CreateContainerConfigError")
    status, body = await sim.get("/api/v1/namespaces/production/pods/web-frontend-6b8f7c9d4-q7w2x/log")
    assert status == 400 and body["message"].endswith("is waiting to start: trying and failing to pull image")
    status, body = await sim.get("/api/v1/namespaces/production/pods/gone/log")
    assert status == 404 and body["message"] == 'pods "gone" not found'


async def test_log_fetches_are_counted_per_container(sim: Sim) -> None:
    """/_sim/stats counts log fetches per namespace/pod/container, previous and current apart."""
    sim.cluster.advance(5)
    for _ in range(3):
        await sim.get(PAYMENT, previous="true", container="payment-service")
    await sim.get(PAYMENT)
    _, stats = await sim.get("/_sim/stats")
    assert stats["log_fetches"]["production/payment-service-7d9f4b8c6-xk2p9/payment-service"] == {
        "previous": 3, "current": 1}
    log_requests = [r for r in stats["recent_requests"] if r["verb"] == "log"]
    assert log_requests[0]["query"] == {"previous": "true", "container": "payment-service"}
