"""A cause added through the catalog API alone is classified, alerted, routed and documented.

Issue 16's done-when: adding a cause (or a wording) needs the catalog plus fixtures only. The test
adds a test-only cause with `CAUSES.added(...)` and runs the real classifier, the rules generator,
the Alertmanager example through amtool and the runbook generator on it, editing none of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crashloop_exporter import runbook
from crashloop_exporter.catalog import CAUSES, Cause, W, event, waiting
from crashloop_exporter.classify import classify, rules_from_data
from crashloop_exporter.errors import CatalogError, RulesFileError
from crashloop_exporter.parse import parse_event, parse_pod
from crashloop_exporter.rulegen import alertmanager, rules
from crashloop_exporter.rulegen.config import RoutingConfig, RulesConfig
from tests.rules.conftest import Runner

SOURCE = "tests/rules/test_catalog_extension.py (a wording no kubelet writes)"
TEST_CAUSE = Cause(
    id="quota_wall",
    title="Quota wall",
    help="A test-only cause: the runtime refuses the container because a made-up quota is spent.",
    priority=55,
    severity="critical",
    team="platform",
    summary=("waiting reason QuotaWall, or a Warning event `quota wall hit for <name>`",),
    remediation="kubectl describe pod ${pod} -n ${namespace}   # quota ${module}",
    alert_for="3m",
    detect=(
        waiting("QuotaWall", source=SOURCE),
        event(wording=W(r"quota wall hit for (?P<module>[\w-]+)", SOURCE), when="not_running"),
    ),
)
NOW = 1_704_067_800.0  # 2024-01-01T00:10:00Z


def _pod(reason: str) -> dict[str, object]:
    return {
        "metadata": {
            "name": "api-1", "namespace": "production", "uid": "u1", "creationTimestamp": "2024-01-01T00:09:00Z"
        },
        "spec": {"containers": [{"name": "api", "image": "api:1"}], "restartPolicy": "Always"},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"name": "api", "restartCount": 0, "ready": False, "state": {"waiting": {"reason": reason}}}
            ],
        },
    }


def test_a_test_only_cause_is_classified_alerted_routed_and_documented(amtool: Runner, tmp_path: Path) -> None:
    """Inside `CAUSES.added`, the new cause wins on its signals and appears in rules, routes and docs."""
    with CAUSES.added(TEST_CAUSE):
        [by_reason] = classify(parse_pod(_pod("QuotaWall")), now=NOW)
        assert (by_reason.cause, by_reason.failing, by_reason.reason) == ("quota_wall", True, "QuotaWall"), by_reason
        ev = parse_event(
            {
                "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "production", "uid": "u1"},
                "reason": "FailedQuota",
                "type": "Warning",
                "message": "quota wall hit for team-a",
                "lastTimestamp": "2024-01-01T00:09:30Z",
            }
        )
        assert ev is not None
        [by_event] = classify(parse_pod(_pod("CreateContainerError")), events=[ev], now=NOW)
        assert by_event.cause == "quota_wall", by_event
        assert "quota team-a" in by_event.remediation

        alert_names = [a["alert"] for g in yaml.safe_load(rules.render(RulesConfig()))["groups"] for a in g["rules"]
                       if "alert" in a]
        assert TEST_CAUSE.alert_name in alert_names

        am = tmp_path / "alertmanager.yml"
        am.write_text(alertmanager.render(RoutingConfig()), encoding="utf-8")
        result = amtool("config", "routes", "test", f"--config.file={am}", "--verify.receivers=platform-team",
                        f"alertname={TEST_CAUSE.alert_name}", "cause=quota_wall", "namespace=production")
        assert result.returncode == 0, result.stdout + result.stderr

        page = runbook.render_page()
        assert '<a id="quota-wall"></a>' in page and SOURCE in page
    assert "quota_wall" not in CAUSES.by_id
    after = classify(parse_pod(_pod("QuotaWall")), now=NOW)
    assert all(f.cause != "quota_wall" for f in after), after


def test_a_catalog_pattern_that_does_not_compile_fails_at_load_naming_it() -> None:
    """A broken wording is one CatalogError sentence naming the cause and the pattern."""
    broken = Cause(**{**{f: getattr(TEST_CAUSE, f) for f in TEST_CAUSE.__dataclass_fields__},
                      "detect": (event(wording=W(r"quota (wall", SOURCE)),)})
    with pytest.raises(CatalogError) as err, CAUSES.added(broken):
        pass
    assert "quota_wall" in str(err.value) and "quota (wall" in str(err.value) and "\n" not in str(err.value)
    assert "quota_wall" not in CAUSES.by_id


def test_a_catalog_pattern_without_a_source_fails_at_load() -> None:
    """Every wording names where it comes from; one without a source is refused."""
    nameless = Cause(**{**{f: getattr(TEST_CAUSE, f) for f in TEST_CAUSE.__dataclass_fields__},
                        "detect": (event(wording=W(r"quota wall", " ")),)})
    with pytest.raises(CatalogError, match="does not name its source"), CAUSES.added(nameless):
        pass


def test_a_user_rule_that_shadows_a_built_in_pattern_fails_at_load() -> None:
    """A --rules-file pattern identical to a built-in one is one RulesFileError sentence naming both."""
    builtin = CAUSES.by_id["dependency_unavailable"].log_patterns[0].regex
    data = {"rules": [{"cause": "bad_config", "pattern": builtin}]}
    with pytest.raises(RulesFileError) as err:
        rules_from_data(data, source="rules.yaml")
    msg = str(err.value)
    assert "rules.yaml: rules[0].pattern" in msg and "dependency_unavailable" in msg and "\n" not in msg
    # Taking the built-in cause's patterns over with `replace` is not shadowing.
    replaced = rules_from_data({**data, "replace": ["dependency_unavailable"]}, source="rules.yaml")
    assert replaced.for_cause("bad_config")[0].pattern == builtin
