"""Fixtures of the preflight tests: the simulated cluster over real HTTP, a recording fake API, and
helpers that run the CLI in-process (in a thread, since it calls asyncio.run) and capture its output.

Fixture manifests live in `fixtures/<CheckId>/<variant>.yaml` (and `fixtures/clean/`). A line that
a finding must point at carries `# expect: CheckId` (several ids may follow, space-separated);
`+offline` after an id means the finding is expected with --offline too (it comes from the input
itself, not from the cluster).
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from crashloop_exporter.cli.main import main
from crashloop_exporter.sim import SimCluster, SimServer

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
SIM_TOKEN = "sim-token"
_EXPECT = re.compile(r"#\s*expect:\s*(.+)$")


@dataclass(frozen=True)
class Expected:
    check: str
    line: int
    offline: bool


def expectations(path: Path) -> list[Expected]:
    """The `# expect: CheckId [+offline] ...` markers of a fixture file, with their line numbers."""
    found: list[Expected] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = _EXPECT.search(text)
        if not m:
            continue
        tokens = m.group(1).split()
        for i, token in enumerate(tokens):
            if token == "+offline":
                continue
            offline = i + 1 < len(tokens) and tokens[i + 1] == "+offline"
            found.append(Expected(token, number, offline))
    return found


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yaml")) + sorted(FIXTURES.glob("*/*.json"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@dataclass
class Sim:
    """A running simulated cluster and a kubeconfig pointing at it."""

    cluster: SimCluster
    server: SimServer
    kubeconfig: Path

    def forbid(self, resource: str) -> None:
        """Every GET of `resource` (secrets, configmaps) answers 403, as without RBAC."""
        self.cluster.add_fault("status", resource=resource, code=403, verb="get", count=0)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Sim]:
    """The sim's base cluster (production has postgres-secret, jwt-secret, api-tls-cert,
    registry-pull-secret and ConfigMap app-config; stripe-secret exists only in staging), no scenario pods."""
    cluster = SimCluster([])
    server = SimServer(cluster, host="127.0.0.1", port=0, token=SIM_TOKEN)
    await server.start()
    try:
        yield Sim(cluster, server, server.write_kubeconfig(tmp_path / "sim.kubeconfig"))
    finally:
        await server.stop()


@dataclass
class FakeApi:
    """A tiny API server that records every request's path and Accept header and answers from
    `objects` (path -> JSON body) or `statuses` (path -> HTTP code); anything else is 404."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, request.headers.get("Accept", "")))
        if request.path in self.statuses:
            code = self.statuses[request.path]
            return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                      "message": f"simulated {code}", "reason": "InternalError", "code": code},
                                     status=code)
        if request.path in self.objects:
            return web.json_response(self.objects[request.path])
        return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                  "message": "not found", "reason": "NotFound", "code": 404}, status=404)


@pytest.fixture
async def fake_api(tmp_path: Path) -> AsyncIterator[tuple[FakeApi, Path]]:
    """A started FakeApi on a random 127.0.0.1 port and a kubeconfig for it."""
    api = FakeApi()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", api.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api.url = f"http://127.0.0.1:{port}"
    kubeconfig = tmp_path / "fake.kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
        f"clusters: [{{name: fake, cluster: {{server: '{api.url}'}}}}]\n"
        "users: [{name: fake, user: {token: fake-token}}]\n"
        "contexts: [{name: fake, context: {cluster: fake, user: fake}}]\n",
        encoding="utf-8",
    )
    try:
        yield api, kubeconfig
    finally:
        await runner.cleanup()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str], *, stdin: bytes = b"") -> CliResult:
    """`crashloop-exporter ARGV` in this process, stdin/stdout/stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    saved = sys.stdin
    sys.stdin = fake_stdin
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv))
    finally:
        sys.stdin = saved
    return CliResult(code, out.getvalue(), err.getvalue())


async def run_cli_async(argv: Sequence[str], *, stdin: bytes = b"") -> CliResult:
    """run_cli in a worker thread, so a sim serving in this test's event loop can answer it."""
    return await asyncio.to_thread(run_cli, argv, stdin=stdin)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a manifest text to tmp_path/NAME and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
