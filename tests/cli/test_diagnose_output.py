"""What `diagnose` prints: the JSON schema, the table's grouping and replica verdicts, wide, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from crashloop_exporter.findings import Evidence, Finding
from crashloop_exporter.model import PodRecord
from crashloop_exporter.parse import parse_pod
from crashloop_exporter.render import WorkloadKey, printable, render_json, render_table, use_color, workload_summary
from tests.cli.dumps import (
    FINDING_KEYS,
    SEED_LOG,
    init_failure_pod,
    kubectl_json,
    kubectl_list,
    missing_secret_replicas,
    node,
    oom_pods,
    payment_service_pod,
    recovered_pod,
    run_diagnose,
    write_dump_dir,
)


def _dump(tmp_path: Path, pods: list[dict[str, Any]], logs: dict[tuple[str, str, str], str] | None = None) -> Path:
    return write_dump_dir(tmp_path / "dump", nodes=[node("node-a"), node("node-b"), node("node-c")], pods=pods,
                          logs=logs)


def test_json_is_an_array_of_exactly_the_spec_keys_sorted(tmp_path: Path) -> None:
    """-o json prints only a JSON array of objects with exactly the spec keys, sorted by ns/workload/pod/container."""
    staging = payment_service_pod()
    staging["metadata"]["namespace"] = "staging"
    root = _dump(tmp_path, [*missing_secret_replicas(2), init_failure_pod(), payment_service_pod(), staging])
    r = run_diagnose("--dump", str(root), "-o", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # the whole of stdout parses: nothing else was printed
    assert data and all(set(f) == FINDING_KEYS for f in data)
    for f in data:
        assert f["container_type"] in ("regular", "init", "ephemeral")
        assert all(set(e) == {"source", "detail"} for e in f["evidence"])
        assert isinstance(f["failing"], bool) and isinstance(f["restarts"], int)
    order = [(f["namespace"], f["workload"], f["pod"], f["container"]) for f in data]
    assert order == sorted(order)
    assert order[0][0] == "production" and order[-1][0] == "staging"
    init = next(f for f in data if f["container"] == "init-migrate")
    assert init["container_type"] == "init"


def test_table_says_when_all_replicas_fail_the_same_way(tmp_path: Path) -> None:
    """Every replica failing with one cause is reported as a shared cause, with the fix printed once."""
    root = _dump(tmp_path, missing_secret_replicas(3))
    r = run_diagnose("--dump", str(root))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "production/Deployment/orders: all 3 pods fail with missing_secret" in out
    assert "not one bad pod" in out
    assert out.count("fix for missing_secret") == 1
    assert out.count("kubectl get secret api-db-credentials -n production") == 1
    for suffix in ("a1b2c", "d3e4f", "g5h6i"):
        row = next(ln for ln in out.splitlines() if f"orders-5c6d7e8f9-{suffix}" in ln)
        assert "missing_secret" in row and "CreateContainerConfigError" in row
        assert 'CreateContainerConfigError: secret "api-db-credentials" not found' in row


def test_table_points_at_the_one_pod_when_only_it_fails(tmp_path: Path) -> None:
    """One failing replica out of three is reported as that pod's (or node's) problem, not the spec's."""
    root = _dump(tmp_path, oom_pods())
    r = run_diagnose("--dump", str(root))
    assert r.returncode == 0, r.stderr
    header = next(ln for ln in r.stdout.splitlines() if ln.startswith("production/Deployment/api-deployment"))
    assert "1 of 3 pods failing (oomkilled)" in header
    assert "look at that pod and its node node-a" in header
    row = next(ln for ln in r.stdout.splitlines() if "api-deployment-7d4b9c-xkp2z" in ln and "oomkilled" in ln)
    assert row.split()[:6] == ["api-deployment-7d4b9c-xkp2z", "api", "oomkilled", "CrashLoopBackOff", "137", "9"]
    assert "api-deployment-7d4b9c-m2f8q" not in r.stdout  # healthy replicas are counted, not listed
    assert r.stdout.startswith("1 failing container in 1 workload (3 pods checked, as of 2024-03-15 02:14:35 UTC)")


def test_no_failures_prints_one_line_and_exits_zero(tmp_path: Path) -> None:
    """Nothing failing: one sentence with the number of pods checked, exit 0 (also with --exit-code)."""
    healthy = [p for p in oom_pods() if not p["metadata"]["name"].endswith("xkp2z")]
    root = _dump(tmp_path, healthy)
    for extra in ((), ("--exit-code",)):
        r = run_diagnose("--dump", str(root), *extra)
        assert (r.returncode, r.stdout, r.stderr) == (0, "No failing containers found (2 pods checked).\n", "")
    r = run_diagnose("--dump", str(root), "-o", "json")
    assert (r.returncode, json.loads(r.stdout)) == (0, [])


def test_exit_code_flag_reports_failures(tmp_path: Path) -> None:
    """By default diagnose exits 0 even with failures; --exit-code makes it 1 for scripts."""
    root = _dump(tmp_path, oom_pods())
    assert run_diagnose("--dump", str(root)).returncode == 0
    assert run_diagnose("--dump", str(root), "--exit-code", "-o", "json").returncode == 1


def test_wide_shows_every_evidence_line_type_and_runbook(tmp_path: Path) -> None:
    """-o wide adds the container type column, all evidence lines and the runbook URL."""
    ps = payment_service_pod()
    root = _dump(tmp_path, [ps, init_failure_pod()],
                 logs={("production", "payment-service-7d9f4b8c6-xk2p9", "payment-service"): SEED_LOG})
    r = run_diagnose("--dump", str(root), "-o", "wide")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "TYPE" in out and " init " in out and " regular " in out
    assert "log: 2024-03-15T02:14:22Z FATAL Missing required environment variable: STRIPE_SECRET_KEY" in out
    assert "spec: env STRIPE_SECRET_KEY <- secretKeyRef stripe-secret/secret-key (optional: true)" in out
    assert "runbook: https://" in out and "#missing-secret" in out and "#init-container-failed" in out


def test_all_flag_adds_recovered_containers(tmp_path: Path) -> None:
    """Recovered containers are hidden by default and shown, marked, with --all."""
    root = _dump(tmp_path, [recovered_pod(), payment_service_pod()])
    default = run_diagnose("--dump", str(root), "-o", "json")
    everything = run_diagnose("--dump", str(root), "-o", "json", "--all")
    assert [f["pod"] for f in json.loads(default.stdout)] == ["payment-service-7d9f4b8c6-xk2p9"]
    recovered = [f for f in json.loads(everything.stdout) if not f["failing"]]
    assert [f["pod"] for f in recovered] == ["cache-6b7c8d9e0f-k2m3n"]
    table = run_diagnose("--dump", str(root), "--all").stdout
    assert "cache-6b7c8d9e0f-k2m3n" in table and "recovered" in table


def test_pod_argument_selects_one_pod_but_counts_its_replicas(tmp_path: Path) -> None:
    """POD shows only that pod's findings, while the verdict still counts all replicas."""
    root = _dump(tmp_path, missing_secret_replicas(3))
    r = run_diagnose("--dump", str(root), "orders-5c6d7e8f9-d3e4f", "-n", "production", "-o", "table")
    assert r.returncode == 0, r.stderr
    assert "all 3 pods fail with missing_secret" in r.stdout
    assert "orders-5c6d7e8f9-a1b2c" not in r.stdout
    assert "(1 pod checked" in r.stdout


def test_narrow_terminal_moves_evidence_under_the_row(tmp_path: Path) -> None:
    """In 80 columns the evidence goes on its own line, trimmed to the width; fix commands are never cut."""
    root = _dump(tmp_path, [payment_service_pod()],
                 logs={("production", "payment-service-7d9f4b8c6-xk2p9", "payment-service"): SEED_LOG})
    r = run_diagnose("--dump", str(root), env={"COLUMNS": "80"})
    lines = r.stdout.splitlines()
    evidence = next(ln for ln in lines if ln.strip().startswith("log: "))
    assert len(evidence) <= 80 and evidence.endswith("…")
    assert any("kubectl create secret generic stripe-secret --from-literal=secret-key=<value> -n production"
               in ln for ln in lines)


def test_control_characters_from_logs_never_reach_the_terminal(tmp_path: Path) -> None:
    """ANSI escapes and control bytes in a crashed program's output are stripped from table and JSON."""
    evil = ("2024-03-15T02:14:22Z \x1b[31mFATAL\x1b[0m Missing required environment variable: "
            "STRIPE_SECRET_KEY\x07\x1b]0;pwned\x07\x9b2J\n")
    root = _dump(tmp_path, [payment_service_pod()],
                 logs={("production", "payment-service-7d9f4b8c6-xk2p9", "payment-service"): evil})
    for fmt in ("table", "wide", "json"):
        r = run_diagnose("--dump", str(root), "-o", fmt)
        assert r.returncode == 0, r.stderr
        assert not any(ch in r.stdout for ch in "\x1b\x07\x9b"), fmt
    finding = json.loads(run_diagnose("--dump", str(root), "-o", "json").stdout)[0]
    assert finding["cause"] == "missing_secret"


def _finding(**overrides: Any) -> Finding:
    base: dict[str, Any] = dict(
        namespace="production", pod="p-1", container="app", container_type="regular", workload_kind="Deployment",
        workload="p", failing=True, cause="app_crash", reason="CrashLoopBackOff", exit_code=1, restarts=2,
        evidence=(Evidence("log", "boom"),), remediation="kubectl logs p-1 -n production --previous",
        runbook_url="https://example.invalid/r#app-crash",
    )
    base.update(overrides)
    return Finding(**base)


def test_renderers_escape_what_the_classifier_did_not_clean() -> None:
    """Whatever a Finding holds, the table shows no control characters and JSON escapes C1/bidi ones."""
    f = _finding(pod="p-1\x1b[2J", remediation="kubectl logs x\x1b]8;;http://evil\x07y\nsecond\rline",
                 evidence=(Evidence("log", "a\u202eb\x9b31mc"),))
    table = render_table([f], pods=None, checked=1, wide=True, width=120)
    assert not any(ch in table for ch in "\x1b\x07\x9b\r\u202e")
    assert "kubectl logs xy" in table and "second line" in table
    text = render_json([f])
    assert "\\u202e" in text and "\\u009b" in text and "\u202e" not in text
    assert json.loads(text)[0]["evidence"][0]["detail"] == "a\u202eb\x9b31mc"
    assert printable("ok\tgo\x00") == "ok go "


def test_color_only_on_a_tty_without_no_color() -> None:
    """Colour needs a terminal and no NO_COLOR; piped output and NO_COLOR=1 stay plain."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(Tty(), {}) is True
    assert use_color(Tty(), {"NO_COLOR": "1"}) is False
    assert use_color(io.StringIO(), {}) is False
    colored = render_table([_finding()], pods=None, checked=1, color=True)
    assert "\x1b[" in colored
    assert "\x1b[" not in render_table([_finding()], pods=None, checked=1, color=False)


def test_help_documents_sources_and_exit_codes() -> None:
    """--help names the three sources, that -f carries no logs, and what each exit status means."""
    r = run_diagnose("--help")
    assert r.returncode == 0
    for text in ("--dump DIR_OR_FILE", "-f FILE", "These carry no logs", "--logs DIR", "--example",
                 "exit status:", "--exit-code", "2  bad input"):
        assert text in r.stdout, text


def test_json_from_list_file_keeps_utf8(tmp_path: Path) -> None:
    """Non-ASCII log text stays readable in -o json (ensure_ascii=False)."""
    p = payment_service_pod()
    path = tmp_path / "p.json"
    path.write_text(kubectl_json(kubectl_list([p])))
    (tmp_path / "logs" / "payment-service-7d9f4b8c6-xk2p9").mkdir(parents=True)
    (tmp_path / "logs" / "payment-service-7d9f4b8c6-xk2p9" / "payment-service.log").write_text(
        "Démarrage…\nFATAL Missing required environment variable: STRIPE_SECRET_KEY — arrêt\n")
    r = run_diagnose("-f", str(path), "--logs", str(tmp_path / "logs"), "-o", "json")
    assert r.returncode == 0, r.stderr
    assert "STRIPE_SECRET_KEY — arrêt" in r.stdout


def _records(*names_nodes: tuple[str, str]) -> list[PodRecord]:
    from tests.cli.dumps import container, pod, status

    return [parse_pod(pod(n, containers=[container("app")], statuses=[status("app")], node=node_name))
            for n, node_name in names_nodes]


def test_workload_verdicts() -> None:
    """The per-workload sentence distinguishes shared causes, mixed causes, a bad node and a bad pod."""
    key = WorkloadKey("production", "Deployment", "web")
    pods = _records(("web-5d6f7-a", "n1"), ("web-5d6f7-b", "n2"), ("web-5d6f7-c", "n3"))
    fail = {p.name: _finding(pod=p.name, workload="web") for p in pods}

    assert workload_summary(key, list(fail.values()), pods).startswith("all 3 pods fail with app_crash — a cause")
    mixed = [fail["web-5d6f7-a"], fail["web-5d6f7-b"], _finding(pod="web-5d6f7-c", cause="oomkilled")]
    assert workload_summary(key, mixed, pods) == "all 3 pods failing, causes differ: app_crash ×2, oomkilled"
    assert workload_summary(key, [fail["web-5d6f7-b"]], pods) == (
        "1 of 3 pods failing (app_crash), the others are healthy — look at node n2: the failing pod runs there, "
        "the healthy ones elsewhere")
    same_node = _records(("web-5d6f7-a", "n1"), ("web-5d6f7-b", "n1"), ("web-5d6f7-c", "n2"))
    assert workload_summary(key, [fail["web-5d6f7-a"]], same_node).endswith("look at that pod and its node n1")
    assert workload_summary(key, [fail["web-5d6f7-a"], fail["web-5d6f7-c"]], same_node).endswith(
        "look at those pods and their nodes or data, not the shared spec")
    assert workload_summary(WorkloadKey("production", "Pod", "debug"), [_finding(pod="debug")], []) == (
        "bare pod failing: app_crash")
    recovered = [_finding(pod="web-5d6f7-a", failing=False, cause="oomkilled")]
    assert workload_summary(key, recovered, pods) == "3 pods, none failing now; recovered from: oomkilled"
