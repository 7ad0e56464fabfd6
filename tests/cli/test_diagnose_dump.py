"""`diagnose --dump`: kubectl cluster-info dump directories and streams, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.cli.dumps import (
    SEED_LOG,
    container,
    dump_stream,
    event,
    node,
    payment_service_pod,
    pod,
    recovered_pod,
    run_diagnose,
    status,
    write_dump_dir,
)
from tests.support.kubeobjects import terminated, typed_list

SEED_POD = "payment-service-7d9f4b8c6-xk2p9"


def _causes(stdout: str) -> dict[tuple[str, str], str]:
    return {(f["pod"], f["container"]): f["cause"] for f in json.loads(stdout)}


def test_dump_directory_classifies_every_failing_container(seed_dump: Path) -> None:
    """A --output-directory dump yields one finding per failing container, using the dumped logs."""
    r = run_diagnose("--dump", str(seed_dump), "-o", "json")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert _causes(r.stdout) == {
        (SEED_POD, "payment-service"): "missing_secret",  # decided by the log line + optional secretKeyRef
        ("api-deployment-7d4b9c-xkp2z", "api"): "oomkilled",
        ("worker-deployment-5f8bb-r9t4k", "init-migrate"): "init_container_failed",
    }
    seed = next(f for f in json.loads(r.stdout) if f["pod"] == SEED_POD)
    assert {"source": "log", "detail": "2024-03-15T02:14:22Z FATAL Missing required environment variable: "
                                       "STRIPE_SECRET_KEY"} in seed["evidence"]
    assert "kubectl get secret stripe-secret -n production" in seed["remediation"]


def test_dump_stream_file_and_stdin_match_the_directory(seed_dump: Path, tmp_path: Path) -> None:
    """The single stream kubectl prints without --output-directory gives the same findings, from a file or stdin."""
    from tests.cli.dumps import MIGRATE_LOG, init_failure_pod, oom_pods

    ps = payment_service_pod()
    pods = [ps, *oom_pods(), init_failure_pod()]
    events = [event(ps, reason="BackOff", container_name="payment-service", count=7,
                    message="Back-off restarting failed container payment-service in pod "
                            "payment-service-7d9f4b8c6-xk2p9_production")]
    logs = {("production", SEED_POD, "payment-service"): SEED_LOG,
            ("production", "worker-deployment-5f8bb-r9t4k", "init-migrate"): MIGRATE_LOG}
    stream = dump_stream(nodes=[node("node-a"), node("node-b")], pods=pods, events=events, logs=logs)
    path = tmp_path / "cluster-dump.txt"
    path.write_text(stream)

    from_dir = run_diagnose("--dump", str(seed_dump), "-o", "json")
    from_file = run_diagnose("--dump", str(path), "-o", "json")
    from_stdin = run_diagnose("--dump", "-", "-o", "json", stdin=stream)
    for r in (from_dir, from_file, from_stdin):
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
    assert json.loads(from_file.stdout) == json.loads(from_dir.stdout)
    assert json.loads(from_stdin.stdout) == json.loads(from_dir.stdout)


def test_yaml_dump_directory(tmp_path: Path) -> None:
    """`cluster-info dump -o yaml --output-directory` writes .yaml files; they read like the JSON ones."""
    root = tmp_path / "dump"
    (root / "production" / SEED_POD).mkdir(parents=True)
    (root / "nodes.yaml").write_text(yaml.safe_dump(typed_list("NodeList", [node("node-a")])))
    (root / "production" / "pods.yaml").write_text(yaml.safe_dump(typed_list("PodList", [payment_service_pod()])))
    (root / "production" / "events.yaml").write_text(yaml.safe_dump(typed_list("EventList", [])))
    (root / "production" / SEED_POD / "logs.txt").write_text(
        f"==== START logs for container payment-service of pod production/{SEED_POD} ====\n{SEED_LOG}"
        f"==== END logs for container payment-service of pod production/{SEED_POD} ====\n"
    )
    r = run_diagnose("--dump", str(root), "-o", "json")
    assert r.returncode == 0, r.stderr
    assert _causes(r.stdout) == {(SEED_POD, "payment-service"): "missing_secret"}


def test_yaml_dump_stream(tmp_path: Path) -> None:
    """The `-o yaml` stream (documents separated by ---, log sections in between) is read too."""
    ps = payment_service_pod()
    docs = [typed_list("NodeList", [node("node-a")]), typed_list("EventList", []), typed_list("PodList", [ps])]
    text = "---\n".join(yaml.safe_dump(d) for d in docs)
    text += (f"==== START logs for container payment-service of pod production/{SEED_POD} ====\n{SEED_LOG}"
             f"==== END logs for container payment-service of pod production/{SEED_POD} ====\n")
    path = tmp_path / "dump.yaml"
    path.write_text(text)
    r = run_diagnose("--dump", str(path), "-o", "json")
    assert r.returncode == 0, r.stderr
    assert _causes(r.stdout) == {(SEED_POD, "payment-service"): "missing_secret"}


def test_current_logs_of_a_running_container_are_not_its_crash_logs(tmp_path: Path) -> None:
    """kubectl dumps current logs; for a running container they belong to the new run and are ignored."""
    p = recovered_pod()
    logs = {("production", "cache-6b7c8d9e0f-k2m3n", "cache"): "dial tcp 10.0.3.4:6379: connect: connection refused\n"}
    root = write_dump_dir(tmp_path / "d", nodes=[node("node-a")], pods=[p, payment_service_pod()], logs=logs)
    r = run_diagnose("--dump", str(root), "-o", "json", "--all")
    assert r.returncode == 0, r.stderr
    cache = next(f for f in json.loads(r.stdout) if f["pod"] == "cache-6b7c8d9e0f-k2m3n")
    assert cache["failing"] is False
    assert cache["cause"] != "dependency_unavailable"
    assert all(e["source"] != "log" for e in cache["evidence"])


def test_dump_is_classified_as_of_its_latest_timestamp(tmp_path: Path) -> None:
    """A container that crashed seconds before the dump's last event is failing, however old the dump."""
    flapping = pod("search-5d6e7f8a9b-p4q5r", containers=[container("search")],
                   statuses=[status("search", restarts=3, ready=False, running_since="2024-03-15T02:14:05Z",
                                    last=terminated(exit_code=1, reason="Error", started="2024-03-15T02:13:50Z",
                                                    finished="2024-03-15T02:14:00Z"))])
    ev = event(flapping, reason="BackOff", container_name="search", last="2024-03-15T02:14:30Z",
               message="Back-off restarting failed container search")
    root = write_dump_dir(tmp_path / "d", nodes=[node("node-a", heartbeat="2024-03-15T02:14:20Z")],
                          pods=[flapping], events=[ev])
    r = run_diagnose("--dump", str(root), "-o", "json")
    assert r.returncode == 0, r.stderr
    (finding,) = json.loads(r.stdout)
    assert finding["failing"] is True
    table = run_diagnose("--dump", str(root))
    assert "as of 2024-03-15 02:14:30 UTC" in table.stdout


def test_malformed_pod_is_skipped_with_one_warning(tmp_path: Path) -> None:
    """A pod with a wrongly typed field is skipped with a warning naming file and item; the rest is classified."""
    bad = payment_service_pod()
    bad["metadata"]["name"] = "broken-7f8e9d0c1b-zz9yy"
    bad["status"]["containerStatuses"][0]["restartCount"] = "four"
    root = write_dump_dir(tmp_path / "d", nodes=[node("node-a")], pods=[payment_service_pod(), bad],
                          logs={("production", SEED_POD, "payment-service"): SEED_LOG})
    r = run_diagnose("--dump", str(root), "-o", "json")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{root / 'production' / 'pods.json'} document 1 (line 1) items[1]: skipped malformed Pod" in lines[0]
    assert "restartCount" in lines[0]
    assert _causes(r.stdout) == {(SEED_POD, "payment-service"): "missing_secret"}


def test_example_flag_shows_the_bundled_dump() -> None:
    """`diagnose --example` classifies the packaged dump: the seed's secret, an OOM kill, an init failure."""
    r = run_diagnose("--example", "-o", "json")
    assert r.returncode == 0, r.stderr
    causes = {(f["workload"], f["cause"]) for f in json.loads(r.stdout)}
    assert causes == {("payment-service", "missing_secret"), ("api-deployment", "oomkilled"),
                      ("worker-deployment", "init_container_failed")}
    table = run_diagnose("--example")
    assert "1 of 3 pods failing (oomkilled)" in table.stdout
    assert "both pods fail with init_container_failed" in table.stdout
    assert "(9 pods checked, as of 2024-03-15" in table.stdout
