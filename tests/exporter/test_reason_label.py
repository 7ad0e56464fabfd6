"""The `reason` label of crashloop_container_failing comes from a fixed table (issue 12, "Also").

The kubelet passes `state.terminated.reason` through from the runtime, so a runtime or a hostile
API can put anything there; unknown reasons are exported as `Other`, as kube-state-metrics does.
"""

from __future__ import annotations

from typing import Any

import pytest

from crashloop_exporter.catalog import CAUSES, KNOWN_REASONS, OTHER_REASON, reason_label
from crashloop_exporter.classify import FAILING_WAITING
from tests.support.clusterstate import initial_list, make_state

from .oracle import fast_renderer, generic_exposition
from .podgen import crashing, pod

HOSTILE_REASONS = {
    "long": "X" * 10_000,
    "newline": "Error\nkubectl delete namespace production",
    "quote": 'Error"} 1\nfake_metric{a="',
    "lowercase-known": "oomkilled",
    "unknown-word": "RuntimeSaidSo",
}


def _failing_reasons(text: str) -> list[str]:
    return [
        ln.split('reason="', 1)[1].split('"', 1)[0]
        for ln in text.splitlines()
        if ln.startswith("crashloop_container_failing{")
    ]


def _terminated(reason: str) -> dict[str, Any]:
    """A container caught between runs: `state.terminated` with the runtime's reason."""
    p = crashing("api-1", 3)
    p["status"]["containerStatuses"][0]["state"] = {
        "terminated": {"exitCode": 2, "reason": reason, "finishedAt": "2024-01-01T00:10:00Z"}
    }
    return p


def _expositions(terminated_reason: str) -> tuple[str, str]:
    """(prometheus-client oracle, cached FastRenderer path) for one container that died with that reason."""
    state, _, _ = make_state()
    initial_list(state, _terminated(terminated_reason))
    fast, _ = fast_renderer(state).render("")
    return generic_exposition(state), fast.decode()


def test_every_reason_the_code_knows_is_in_the_table() -> None:
    """The classifier's failing waiting reasons and every catalog signal reason are exported as themselves."""
    catalog_reasons = {r for c in CAUSES for r in c.waiting_reasons | c.terminated_reasons}
    assert FAILING_WAITING | catalog_reasons <= KNOWN_REASONS
    for known in ("CrashLoopBackOff", "OOMKilled", "Error", "Completed", "ContainerCreating", "Evicted", "StartError"):
        assert reason_label(known) == known


@pytest.mark.parametrize("reason", HOSTILE_REASONS.values(), ids=HOSTILE_REASONS.keys())
def test_unknown_reason_is_exported_as_other(reason: str) -> None:
    """A terminated reason outside the table is `reason="Other"` in /metrics and in the oracle."""
    for text in _expositions(reason):
        assert _failing_reasons(text) == [OTHER_REASON]
        assert "kubectl" not in text and "fake_metric" not in text and "X" * 100 not in text


def test_known_reason_is_exported_unchanged() -> None:
    """A runtime reason in the table (OOMKilled) keeps its own value in the label."""
    state, _, _ = make_state()
    initial_list(state, pod("api-1", waiting=("CreateContainerConfigError", 'secret "db" not found')))
    body, _ = fast_renderer(state).render("")
    assert _failing_reasons(body.decode()) == ["CreateContainerConfigError"]
    for text in _expositions("OOMKilled"):
        assert _failing_reasons(text) == ["OOMKilled"]


def test_finding_keeps_the_raw_reason_for_humans() -> None:
    """Only the label is bounded: /causes and diagnose still show what the kubelet said."""
    state, _, _ = make_state()
    initial_list(state, _terminated("RuntimeSaidSo"))
    [f] = state.all_findings()
    assert f.reason == "RuntimeSaidSo"
