"""Every catalog cause has an alert, a promtool unit test and a routing test; every alert of the
pack has a unit test that sees it both silent and firing, and a runbook section to point at."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crashloop_exporter.catalog import CAUSE_IDS, CAUSES, Cause
from tests.rules.conftest import ALERTMANAGER_PATH, ROOT, RULES_DIR, RULES_PATH, load_yaml, unit_test_files
from tests.rules.owners import spec_owner


def _alerts() -> list[dict[str, Any]]:
    data = load_yaml(RULES_PATH)
    assert isinstance(data, dict)
    return [r for g in data["groups"] for r in g["rules"] if "alert" in r]


def _alert_steps() -> list[dict[str, Any]]:
    steps = []
    for path in unit_test_files():
        data = load_yaml(path)
        assert isinstance(data, dict)
        for test in data["tests"]:
            steps.extend(test.get("alert_rule_test", []))
    return steps


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.id)
def test_cause_has_an_alert_a_unit_test_and_a_route_test(cause: Cause) -> None:
    """The cause has its alert (cause/severity/team labels), a promtool test that fires it, and exactly one
    explicit route in the checked-in alertmanager.yml, to the owner the spec names."""
    (alert,) = [a for a in _alerts() if a["alert"] == cause.alert_name]
    assert alert["labels"] == {"cause": cause.id, "severity": cause.severity, "team": cause.team}
    assert alert["annotations"]["runbook_url"] == cause.runbook_url
    fired = [s for s in _alert_steps() if s["alertname"] == cause.alert_name and s["exp_alerts"]]
    assert any(a["exp_labels"]["cause"] == cause.id for s in fired for a in s["exp_alerts"])
    routes = _cause_routes()
    matching = [receiver for pattern, receiver in routes if re.fullmatch(pattern, cause.id)]
    assert len(matching) == 1, f"{cause.id}: {len(matching)} explicit cause routes in alertmanager.yml {routes}"
    assert matching == [spec_owner(cause.id)]


def _cause_routes() -> list[tuple[str, str]]:
    """(cause regex, receiver) of every child route of the checked-in alertmanager.yml that
    matches on `cause`, read from the file: a cause left out would silently fall to the default."""
    config = load_yaml(ALERTMANAGER_PATH)
    assert isinstance(config, dict)
    out = []
    for route in config["route"]["routes"]:
        for matcher in route.get("matchers", []):
            m = re.fullmatch(r'cause(=~|=)"(.*)"', matcher)
            if m:
                out.append((m[2] if m[1] == "=~" else re.escape(m[2]), route["receiver"]))
    assert out, "alertmanager.yml routes nothing by cause"
    return out


def test_no_alert_for_a_cause_outside_the_catalog() -> None:
    """Every cause label value in the rules is a catalog cause."""
    causes = {a["labels"]["cause"] for a in _alerts() if "cause" in a["labels"]}
    assert causes == set(CAUSE_IDS)


def test_every_alert_is_seen_silent_and_firing_by_a_unit_test() -> None:
    """Each alert in the pack has a promtool step expecting nothing and one expecting it to fire."""
    steps = _alert_steps()
    for alert in _alerts():
        mine = [s for s in steps if s["alertname"] == alert["alert"]]
        assert any(not s["exp_alerts"] for s in mine), f"{alert['alert']}: no silent step"
        assert any(s["exp_alerts"] for s in mine), f"{alert['alert']}: no firing step"
        for s in mine:
            for exp in s["exp_alerts"]:
                assert set(exp["exp_annotations"]) == {"summary", "description", "runbook_url"}


def test_every_alert_links_to_a_runbook_section_that_exists() -> None:
    """Cause alerts link into docs/causes.md, the others to a section of rules/README.md that exists."""
    readme = (RULES_DIR / "README.md").read_text(encoding="utf-8")
    anchors = {m.lower() for m in re.findall(r"^### (\S+)$", readme, flags=re.MULTILINE)}
    causes_doc = ROOT / "docs" / "causes.md"
    for alert in _alerts():
        url = alert["annotations"]["runbook_url"]
        if url.endswith('reReplaceAll "_" "-" }}'):
            continue  # the cause is a label value: one of the cause anchors checked below
        page, _, anchor = url.partition("#")
        if page.endswith("rules/README.md"):
            assert anchor in anchors, f"{alert['alert']}: no `### {alert['alert']}` in rules/README.md"
        else:
            assert page.endswith("docs/causes.md"), url
            assert f'<a id="{anchor}"></a>' in causes_doc.read_text(encoding="utf-8"), url
