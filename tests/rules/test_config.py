"""The generator's knobs and template rendering: selectors, durations, placeholders, escaping."""

from __future__ import annotations

import dataclasses
from string import Template

import pytest

from crashloop_exporter.catalog import CAUSES, cause
from crashloop_exporter.errors import InputError
from crashloop_exporter.rulegen import RoutingConfig, RulesConfig, templates
from crashloop_exporter.rulegen.config import duration_seconds, equality_labels, split_matchers
from crashloop_exporter.rulegen.rules import POD_FAILED, cause_alert, rule_groups


@pytest.mark.parametrize(("text", "seconds"), [("0m", 0), ("5s", 5), ("2m", 120), ("1h30m", 5400),
                                               ("500ms", 0.5), ("1d", 86400)])
def test_durations_parse_like_prometheus(text: str, seconds: float) -> None:
    """Prometheus durations, compound ones included, convert to seconds."""
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5 m", "1.5h", "-1m"])
def test_malformed_durations_are_input_errors(text: str) -> None:
    """Anything that is not a Prometheus duration is refused with the value quoted."""
    with pytest.raises(InputError, match="duration"):
        duration_seconds(text)


@pytest.mark.parametrize("selector", ['{job="x"}', 'job="x"}', "job=x", 'job="x",,foo', "job==\"x\"",
                                      "job=`x`"])
def test_malformed_selectors_are_input_errors(selector: str) -> None:
    """Selectors must be matchers without braces; anything else names the setting."""
    with pytest.raises(InputError, match="exporter_selector"):
        RulesConfig(exporter_selector=selector)


def test_selector_parsing_respects_quotes() -> None:
    """Commas inside quoted values do not split matchers; only equality matchers imply series labels."""
    assert split_matchers('a="x,y", b=~"p|q"') == ['a="x,y"', 'b=~"p|q"']
    assert equality_labels('job="a", env="prod \\"eu\\""') == {"job": "a", "env": 'prod "eu"'}
    assert equality_labels('job=~"a|b"') is None
    assert equality_labels("") == {}


def test_empty_selector_is_allowed_and_drops_out() -> None:
    """An empty exporter selector selects the metrics by name alone, with no stray comma."""
    text = "\n".join(r.expr for g in rule_groups(RulesConfig(exporter_selector="")) for r in g.rules)
    assert "crashloop_container_failing{cause=\"oomkilled\"}" not in text  # oomkilled counts crashes
    assert 'crashloop_crashes_total{cause="oomkilled"}' in text
    assert "{}" in text  # `up{}`: valid PromQL selecting by name
    assert "{, " not in text and ", }" not in text


def test_cluster_label_is_configurable() -> None:
    """The cluster label leads every aggregation when set, and disappears when empty."""
    groups = rule_groups(RulesConfig(cluster_label="k8s_cluster"))
    exprs = [r.expr for g in groups for r in g.rules]
    assert all("(cluster," not in e for e in exprs)
    assert sum("by (k8s_cluster, " in e for e in exprs) >= len(CAUSES)
    with pytest.raises(InputError, match="cluster_label"):
        RulesConfig(cluster_label="k8s-cluster")


def test_routing_config_needs_a_receiver_placeholder() -> None:
    """A webhook URL without {receiver} would send every team to one hook: refused."""
    with pytest.raises(InputError, match="receiver"):
        RoutingConfig(webhook_url="https://hooks.example.com/all")


def test_every_remediation_name_becomes_a_label_or_a_readable_placeholder() -> None:
    """No `${...}` survives into an alert, and names the alert cannot know read like `<secret-name>`."""
    for c in CAUSES:
        for pod_known in (True, False):
            text = templates.remediation(c, pod_known=pod_known)
            assert "${" not in text, c.id
    secret = templates.remediation(cause("missing_secret"), pod_known=True)
    assert "kubectl get secret <secret-name> -n {{ $labels.namespace }}" in secret


def test_catalog_text_cannot_open_a_go_template_action() -> None:
    """A literal `{{` in a remediation is escaped, so it renders as text instead of breaking the template."""
    fix = "kubectl get pod ${pod} -o go-template='{{.metadata.name}}'"
    c = dataclasses.replace(cause("app_crash"), remediation=fix)
    text = templates.remediation(c, pod_known=True)
    assert text == "kubectl get pod {{ $labels.pod }} -o go-template='{{ \"{{\" }}.metadata.name}}'\n"
    assert Template(c.remediation).get_identifiers() == ["pod"]


def test_crash_count_alerts_never_name_a_pod() -> None:
    """crashes_total has no pod label, so crash-count alerts group by workload and print `<pod>`."""
    for c in CAUSES:
        alert = cause_alert(RulesConfig(), c)
        if c.alert_min_crashes:
            assert "pod" not in alert.expr.split("(")[0] + alert.expr.split("by")[1].split(")")[0]
            assert "$labels.pod" not in alert.annotations["description"]
            assert "<pod>" in alert.annotations["description"] or "${pod}" not in c.remediation
        else:
            assert " pod," in alert.expr and "$labels.pod" in alert.annotations["description"]


def test_pod_failed_waits_longer_than_the_node_pressure_alert_that_mutes_it() -> None:
    """An evicted pod's Failed alert fires after its node-pressure alert, so the inhibition can mute it."""
    alerts = {a.alert: a for g in rule_groups(RulesConfig()) for a in g.alerts}
    node_pressure = alerts[cause("node_pressure").alert_name]
    assert duration_seconds(alerts[POD_FAILED].for_) > duration_seconds(node_pressure.for_)


def test_alert_remediation_uses_label_references_never_shell_quotes() -> None:
    """The alert side names labels as `{{ $labels.x }}` unquoted; Prometheus fills them in."""
    text = templates.remediation(cause("start_error"), pod_known=True)
    assert "kubectl describe pod {{ $labels.pod }} -n {{ $labels.namespace }}" in text
    assert '(@.name=="{{ $labels.container }}")' in text
    assert "'{{ $labels" not in text


def test_alert_kind_choices_are_go_ifs_that_render_like_the_finding() -> None:
    """Kind-dependent lines are `if`s on workload_kind; with concrete labels they match the finding's text."""
    from crashloop_exporter.classify.remediation import render

    text = templates.remediation(cause("missing_secret"), pod_known=True)
    assert '{{ else if eq $labels.workload_kind "Pod" }}' in text
    for kind in ("Deployment", "Job", "Pod"):
        labels = {"namespace": "prod", "pod": "p-1", "container": "app", "workload": "w", "workload_kind": kind}
        alert = templates.remediation(cause("missing_secret"), pod_known=True, labels=labels)
        finding = render(cause("missing_secret"), labels, workload_kind=kind)
        assert alert == finding + "\n", kind
