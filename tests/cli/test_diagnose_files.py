"""`diagnose -f`: what `kubectl get pods,events -o json|yaml` prints, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.cli.dumps import (
    SEED_LOG,
    container,
    event,
    kubectl_json,
    kubectl_list,
    payment_service_pod,
    pod,
    run_diagnose,
    status,
)
from tests.support.kubeobjects import terminated, typed_list

SEED_POD = "payment-service-7d9f4b8c6-xk2p9"


def _liveness_pod() -> dict[str, Any]:
    """Runbook cause 5: the kubelet kills `api` because /healthz answers 404."""
    return pod("api-deployment-7d4b9c-xkp2z", containers=[container("api")],
               statuses=[status("api", restarts=6, waiting=("CrashLoopBackOff", ""),
                                last=terminated(exit_code=137, reason="Error", started="2024-03-15T02:13:00Z",
                                                finished="2024-03-15T02:13:38Z"))])


def _liveness_events(p: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        event(p, reason="Unhealthy", container_name="api", count=3, last="2024-03-15T02:13:35Z",
              message="Liveness probe failed: HTTP probe failed with statuscode: 404"),
        event(p, reason="Killing", container_name="api", type_="Normal", last="2024-03-15T02:13:35Z",
              message="Container api failed liveness probe, will be restarted"),
    ]


def _findings(stdout: str) -> list[dict[str, Any]]:
    data = json.loads(stdout)
    assert isinstance(data, list)
    return data


def test_single_pod_json_without_logs(tmp_path: Path) -> None:
    """`kubectl get pod X -o json`: classified from status alone, since -f carries no logs."""
    path = tmp_path / "pod.json"
    path.write_text(kubectl_json(payment_service_pod()))
    r = run_diagnose("-f", str(path), "-o", "json")
    assert r.returncode == 0, r.stderr
    (f,) = _findings(r.stdout)
    assert (f["pod"], f["cause"], f["exit_code"], f["restarts"]) == (SEED_POD, "app_crash", 1, 4)


def test_logs_dir_supplies_previous_logs(tmp_path: Path) -> None:
    """`--logs DIR/<pod>/<container>.log` gives -f input the crash log, which decides the seed's cause."""
    path = tmp_path / "pod.json"
    path.write_text(kubectl_json(payment_service_pod()))
    (tmp_path / "logs" / SEED_POD).mkdir(parents=True)
    (tmp_path / "logs" / SEED_POD / "payment-service.log").write_text(SEED_LOG)
    r = run_diagnose("-f", str(path), "--logs", str(tmp_path / "logs"), "-o", "json")
    assert r.returncode == 0, r.stderr
    (f,) = _findings(r.stdout)
    assert f["cause"] == "missing_secret"


def test_list_with_pods_and_events_matches_events_to_pods(tmp_path: Path) -> None:
    """`kubectl get pods,events -o json` (kind: List): the Killing event makes it a liveness-probe kill."""
    p = _liveness_pod()
    path = tmp_path / "all.json"
    path.write_text(kubectl_json(kubectl_list([p, *_liveness_events(p)])))
    r = run_diagnose("-f", str(path), "-o", "json")
    assert r.returncode == 0, r.stderr
    (f,) = _findings(r.stdout)
    assert f["cause"] == "liveness_probe"
    assert any("failed liveness probe" in e["detail"] for e in f["evidence"])


def test_pods_and_events_from_separate_files_and_stdin(tmp_path: Path) -> None:
    """A PodList file plus an EventList on stdin (`-f -`) are joined before classification."""
    p = _liveness_pod()
    pods = tmp_path / "pods.json"
    pods.write_text(kubectl_json(typed_list("PodList", [p])))
    events = kubectl_json(typed_list("EventList", _liveness_events(p)))
    r = run_diagnose("-f", str(pods), "-f", "-", "-o", "json", stdin=events)
    assert r.returncode == 0, r.stderr
    (f,) = _findings(r.stdout)
    assert f["cause"] == "liveness_probe"


def test_yaml_list_and_multi_document_yaml(tmp_path: Path) -> None:
    """`-o yaml` (one List document) and hand-joined `---` documents give the same findings as JSON."""
    p = _liveness_pod()
    as_list = tmp_path / "list.yaml"
    as_list.write_text(yaml.safe_dump(kubectl_list([p, *_liveness_events(p)])))
    multi = tmp_path / "multi.yaml"
    multi.write_text("---\n".join(yaml.safe_dump(d) for d in [p, typed_list("EventList", _liveness_events(p))]))
    as_json = tmp_path / "list.json"
    as_json.write_text(kubectl_json(kubectl_list([p, *_liveness_events(p)])))
    results = [run_diagnose("-f", str(f), "-o", "json") for f in (as_list, multi, as_json)]
    for r in results:
        assert r.returncode == 0, r.stderr
    assert _findings(results[0].stdout) == _findings(results[2].stdout)
    assert _findings(results[1].stdout) == _findings(results[2].stdout)
    assert _findings(results[0].stdout)[0]["cause"] == "liveness_probe"


def test_events_of_an_earlier_pod_with_the_same_name_are_not_used(tmp_path: Path) -> None:
    """Events match by involvedObject.uid: a recreated StatefulSet pod does not inherit its predecessor's kills."""
    p = pod("db-0", containers=[container("api")], owner=("StatefulSet", "db"),
            statuses=[status("api", restarts=2, waiting=("CrashLoopBackOff", ""),
                             last=terminated(exit_code=137, reason="Error", started="2024-03-15T02:13:00Z",
                                             finished="2024-03-15T02:13:38Z"))])
    old = json.loads(json.dumps(p))
    old["metadata"]["uid"] = "00000000-0000-4000-8000-000000000001"
    events = _liveness_events(old)
    path = tmp_path / "all.json"
    path.write_text(kubectl_json(kubectl_list([p, *events])))
    r = run_diagnose("-f", str(path), "-o", "json")
    assert r.returncode == 0, r.stderr
    (f,) = _findings(r.stdout)
    assert (f["workload_kind"], f["workload"]) == ("StatefulSet", "db")
    assert f["cause"] == "sigkill"


def test_list_with_other_kinds_notes_what_it_ignored(tmp_path: Path) -> None:
    """`kubectl get all -o json` also holds Deployments; they are ignored with one note, pods still read."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "production"}}
    path = tmp_path / "all.json"
    path.write_text(kubectl_json(kubectl_list([payment_service_pod(), deployment, deployment])))
    r = run_diagnose("-f", str(path), "-o", "json")
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == (f"crashloop-exporter diagnose: note: {path}: ignored Deployment (2): "
                                "diagnose reads only Pods, Events and Nodes")
    assert len(_findings(r.stdout)) == 1


def test_namespace_filter_applies_to_files(tmp_path: Path) -> None:
    """-n keeps only that namespace's pods; without it every namespace in the file is shown."""
    other = payment_service_pod()
    other["metadata"]["namespace"] = "staging"
    path = tmp_path / "pods.json"
    path.write_text(kubectl_json(kubectl_list([payment_service_pod(), other])))
    everything = run_diagnose("-f", str(path), "-o", "json")
    staging = run_diagnose("-f", str(path), "-n", "staging", "-o", "json")
    assert sorted(f["namespace"] for f in _findings(everything.stdout)) == ["production", "staging"]
    assert [f["namespace"] for f in _findings(staging.stdout)] == ["staging"]
