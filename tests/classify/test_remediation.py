"""Remediations name the real objects and only use commands valid for the workload kind."""

from __future__ import annotations

from crashloop_exporter.catalog import BY_ID, CAUSES
from crashloop_exporter.classify.remediation import memory_bytes, render, suggest_memory, workload_facts


def test_memory_suggestion_doubles_the_limit() -> None:
    """The seed's 512Mi limit becomes 1Gi with a 512Mi request."""
    assert suggest_memory("512Mi", "256Mi") == ("1Gi", "512Mi")
    assert suggest_memory("", "") == ("1Gi", "512Mi")
    assert memory_bytes("1G") == 1e9 and memory_bytes("abc") is None


def test_rollout_lines_become_notes_for_jobs() -> None:
    """`kubectl rollout` does not exist for Jobs; the fix says what to do instead."""
    facts = {
        "namespace": "batch",
        "pod": "etl-1-abc",
        "workload": "etl",
        **workload_facts(namespace="batch", pod="etl-1-abc", workload_kind="Job", workload="etl"),
    }
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
