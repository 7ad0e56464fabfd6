"""`diagnose` against a live cluster: a fake API server on 127.0.0.1 speaking real HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.cli.dumps import SEED_LOG, event, node, oom_pods, payment_service_pod, run_diagnose
from tests.support.kubeobjects import typed_list


@dataclass
class FakeApi:
    """A minimal API server: paginated pod LIST, events, nodes and pods/log, recording every request."""

    forbid_logs: bool = False
    forbid_nodes: bool = True
    requests: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    port: int = 0

    def pods(self) -> list[dict[str, Any]]:
        return [payment_service_pod(), *oom_pods()]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.query), request.headers.get("Authorization", "")))
        path, query = request.path, request.query
        if path in ("/api/v1/namespaces/production/pods", "/api/v1/pods"):
            items = self.pods()
            # Two pages, as a big cluster's LIST with limit/continue would come.
            if query.get("continue") == "page-2":
                body, cont = typed_list("PodList", items[2:]), ""
            else:
                body, cont = typed_list("PodList", items[:2]), "page-2"
            body["metadata"]["continue"] = cont
            return web.json_response(body)
        if path in ("/api/v1/namespaces/production/events", "/api/v1/events"):
            ps = payment_service_pod()
            return web.json_response(typed_list("EventList", [
                event(ps, reason="BackOff", container_name="payment-service",
                      message="Back-off restarting failed container payment-service")]))
        if path == "/api/v1/nodes":
            if self.forbid_nodes:
                return self.status(403, "Forbidden", 'nodes is forbidden: User "dev" cannot list resource "nodes"')
            return web.json_response(typed_list("NodeList", [node("node-a"), node("node-b")]))
        if path.startswith("/api/v1/namespaces/production/pods/") and path.endswith("/log"):
            if self.forbid_logs:
                return self.status(403, "Forbidden", "pods/log is forbidden")
            if path.split("/")[-2] == "payment-service-7d9f4b8c6-xk2p9" and query.get("previous") == "true":
                return web.Response(text=SEED_LOG, content_type="text/plain")
            return self.status(400, "BadRequest", "previous terminated container not found")
        return self.status(404, "NotFound", f"{path} not found")

    @staticmethod
    def status(code: int, reason: str, message: str) -> web.Response:
        return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                                  "reason": reason, "code": code}, status=code)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """Serve a FakeApi on a random free port in a background thread; stopped after the test."""
    api = FakeApi()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", api.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        api.port = runner.addresses[0][1]
        runner_box.append(runner)
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(10), "fake API server did not start"
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _kubeconfig(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "dev", "user": {"token": "test-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "dev", "namespace": "production"}}],
    }))
    return path


def test_live_cluster_lists_pages_reads_previous_logs_and_classifies(fake_api: FakeApi, tmp_path: Path) -> None:
    """Live mode: context namespace, paginated LIST, Pod-only events, previous logs only where they decide."""
    r = run_diagnose("--kubeconfig", str(_kubeconfig(tmp_path, fake_api.port)), "-o", "json")
    assert r.returncode == 0, r.stderr
    causes = {f["pod"]: f["cause"] for f in json.loads(r.stdout)}
    assert causes == {"payment-service-7d9f4b8c6-xk2p9": "missing_secret", "api-deployment-7d4b9c-xkp2z": "oomkilled"}
    assert r.stderr.strip() == ("crashloop-exporter diagnose: note: no permission to list nodes; "
                                "node pressure cannot be checked")

    paths = [p for p, _, _ in fake_api.requests]
    assert paths.count("/api/v1/namespaces/production/pods") == 2  # two pages
    assert all(auth == "Bearer test-token" for _, _, auth in fake_api.requests)
    events = next(q for p, q, _ in fake_api.requests if p.endswith("/events"))
    assert events["fieldSelector"] == "involvedObject.kind=Pod"
    logs = [(p, q) for p, q, _ in fake_api.requests if p.endswith("/log")]
    # Only the seed's container needs its log: the OOM kill is decided by status, healthy pods need none.
    assert [p.split("/")[-2] for p, _ in logs] == ["payment-service-7d9f4b8c6-xk2p9"]
    assert logs[0][1]["previous"] == "true" and logs[0][1]["container"] == "payment-service"
    assert int(logs[0][1]["tailLines"]) > 0 and int(logs[0][1]["limitBytes"]) > 0


def test_live_without_pods_log_permission_degrades_and_says_so_once(fake_api: FakeApi, tmp_path: Path) -> None:
    """403 on pods/log: classification from status and events only, one note on stderr, exit 0."""
    fake_api.forbid_logs = True
    fake_api.forbid_nodes = False
    r = run_diagnose("--kubeconfig", str(_kubeconfig(tmp_path, fake_api.port)), "-o", "json", "--all")
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == ("crashloop-exporter diagnose: note: no permission to read pods/log; "
                                "classifying from status and events only")
    seed = next(f for f in json.loads(r.stdout) if f["pod"] == "payment-service-7d9f4b8c6-xk2p9")
    assert seed["cause"] == "app_crash"


def test_live_all_namespaces_and_pod_filter(fake_api: FakeApi, tmp_path: Path) -> None:
    """-A lists cluster-wide; `POD -A` asks the API for that name only and says replicas are not listed."""
    kubeconfig = str(_kubeconfig(tmp_path, fake_api.port))
    r = run_diagnose("--kubeconfig", kubeconfig, "-A", "--no-logs", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert {p for p, _, _ in fake_api.requests} >= {"/api/v1/pods", "/api/v1/events", "/api/v1/nodes"}
    assert not any(p.endswith("/log") for p, _, _ in fake_api.requests)  # --no-logs

    fake_api.requests.clear()
    r = run_diagnose("--kubeconfig", kubeconfig, "-A", "api-deployment-7d4b9c-xkp2z")
    assert r.returncode == 0, r.stderr
    pod_query = next(q for p, q, _ in fake_api.requests if p == "/api/v1/pods")
    assert pod_query["fieldSelector"] == "metadata.name=api-deployment-7d4b9c-xkp2z"
    assert "(other replicas not listed)" in r.stdout
