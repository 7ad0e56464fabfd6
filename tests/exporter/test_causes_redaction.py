"""`/causes` never serves a credential a crashed container printed, for every form of the table."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from crashloop_exporter.classify.redact import EXAMPLES, FORMS
from crashloop_exporter.serve.server import build_app
from tests.support.clusterstate import initial_list, make_state

from .oracle import fast_renderer
from .podgen import crashing

CASES: list[tuple[str, str, str, str]] = [*((f.name, f.example, f.secret, f.kept) for f in FORMS), *EXAMPLES]


@pytest.mark.parametrize(("line", "secret", "kept"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_causes_masks_credentials_from_the_previous_log(line: str, secret: str, kept: str) -> None:
    """A crash whose previous log ends with a credential: /causes quotes the line, masked."""
    state, _, requests = make_state(logs=True)
    initial_list(state, crashing("api-1", 1))
    [req] = requests
    state.apply_logs(req, "starting\nFATAL " + line + "\n")
    app = build_app(
        render=fast_renderer(state).render, ready=lambda: [], findings=state.all_findings, causes_endpoint=True
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        resp = await client.get("/causes")
        text = await resp.text()
        [finding] = await resp.json()
    finally:
        await client.close()
    assert secret not in text
    assert any(kept in e["detail"] for e in finding["evidence"]), finding["evidence"]
