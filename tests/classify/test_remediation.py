"""Remediations name the real objects and only use commands valid for the workload kind."""

from __future__ import annotations

from crashloop_exporter.catalog import BY_ID, CAUSES
from crashloop_exporter.classify.remediation import memory_bytes, render, suggest_memory


def test_memory_suggestion_doubles_the_limit() -> None:
    """The seed's 512Mi limit becomes 1Gi with a 512Mi request."""
    assert suggest_memory("512Mi", "256Mi") == ("1Gi", "512Mi")
    assert suggest_memory("", "") == ("1Gi", "512Mi")
    assert memory_bytes("1G") == 1e9 and memory_bytes("abc") is None


def test_rollout_lines_become_notes_for_jobs() -> None:
    """`kubectl rollout` does not exist for Jobs; the fix says what to do instead."""
    facts = {"namespace": "batch", "pod": "etl-1-abc", "workload": "etl"}
    text = render(BY_ID["app_crash"], facts, workload_kind="Job")
    assert "kubectl rollout" not in text and "Job etl has no rollout history" in text


def test_every_template_renders_without_dollar_placeholders() -> None:
    """No `${name}` survives rendering: unknown names become readable <placeholders>."""
    for c in CAUSES:
        text = render(c, {}, workload_kind="Deployment")
        assert "${" not in text, c.id
        assert "kubectl" in text, c.id


def test_missing_secret_with_several_keys_gets_one_flag_per_key() -> None:
    """`secret "db" not found` for a spec reading keys user and password: both get `=<value>`."""
    from crashloop_exporter.classify import classify
    from crashloop_exporter.parse import parse_pod

    env = [{"name": n.upper(), "valueFrom": {"secretKeyRef": {"name": "db", "key": n}}} for n in ("user", "password")]
    pod = parse_pod(
        {
            "metadata": {"name": "api-1", "namespace": "prod", "uid": "u"},
            "spec": {"containers": [{"name": "api", "env": env}]},
            "status": {
                "containerStatuses": [
                    {
                        "name": "api",
                        "restartCount": 0,
                        "state": {
                            "waiting": {"reason": "CreateContainerConfigError", "message": 'secret "db" not found'}
                        },
                    }
                ]
            },
        }
    )
    [f] = classify(pod, now=0.0)
    assert "--from-literal=user=<value> --from-literal=password=<value> -n prod" in f.remediation


def test_finding_and_alert_show_the_same_placeholders() -> None:
    """A name nobody knows reads the same in `diagnose` and in the alert: one placeholder table."""
    from crashloop_exporter.rulegen import templates

    shown_by_cause = {"oomkilled": "# limit now: <current-limit>", "missing_runtime_dependency": "<missing-module>"}
    for cause_id, shown in shown_by_cause.items():
        assert shown in render(BY_ID[cause_id], {}, workload_kind="Deployment")
        assert shown in templates.remediation(BY_ID[cause_id], pod_known=True)


def test_finding_facts_are_quoted_inside_the_templates_own_quotes() -> None:
    """A hostile container name closes the template's single quote, is shell-quoted, and reopens it."""
    facts = {"namespace": "prod", "pod": "api-1", "container": "a'b", "workload": "api"}
    text = render(BY_ID["start_error"], facts, workload_kind="Deployment")
    assert """(@.name=="''a'"'"'b''")]""" in text
    assert "kubectl set image deployment/api 'a'\"'\"'b'=<registry>" in text


def test_restart_command_follows_the_owner_kind() -> None:
    """`${restart_cmd}` is a rollout for a Deployment, a replace for a bare Pod, a delete for a Job."""
    facts = {"namespace": "prod", "pod": "p-1", "workload": "w"}
    kinds = ("Deployment", "Pod", "Job")
    restart = {kind: render(BY_ID["missing_secret"], facts, workload_kind=kind) for kind in kinds}
    assert "kubectl rollout restart deployment/w -n prod" in restart["Deployment"]
    assert "kubectl get pod p-1 -n prod -o yaml | kubectl replace --force -f -" in restart["Pod"]
    assert "kubectl delete pod p-1 -n prod   # its Job creates a new one" in restart["Job"]
    assert "# Pod w has no rollout history: fix the spec, re-apply it\n" in restart["Pod"] + "\n"
