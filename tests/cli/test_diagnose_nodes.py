"""`diagnose` groups failing pods that share a node under that node (the seed FAQ: node-level
problems affect "pods across the node"), with its pressure conditions and the commands to run."""

from __future__ import annotations

from pathlib import Path

from tests.cli.dumps import container, node, pod, run_diagnose, status, write_dump_dir
from tests.support.kubeobjects import Obj, terminated

FINISHED = "2024-03-15T02:14:20Z"


def _crashing(name: str, on: str) -> Obj:
    last = terminated(exit_code=1, reason="Error", started="2024-03-15T02:14:10Z", finished=FINISHED)
    return pod(name, namespace="shop", node=on, containers=[container("app")],
               statuses=[status("app", restarts=4, waiting=("CrashLoopBackOff", "back-off 1m20s"), last=last)])


def test_failing_pods_on_one_pressured_node_are_grouped_under_it(tmp_path: Path) -> None:
    pods = [_crashing("cart-7d9f4b8c6-aaaaa", "worker-3"), _crashing("web-5f8bb9c7d-bbbbb", "worker-3"),
            _crashing("web-5f8bb9c7d-ccccc", "worker-4")]
    dump = write_dump_dir(tmp_path / "dump", pods=pods,
                          nodes=[node("worker-3", pressures=["MemoryPressure"]), node("worker-4")])
    r = run_diagnose("--dump", str(dump))
    assert r.returncode == 0, r.stderr
    table = r.stdout
    assert "node worker-3 (MemoryPressure): 2 failing pods of 2 workloads run here — node pressure affects pods " \
           "across the node: look at the node first" in table, table
    section = table[table.index("node worker-3"):]
    assert "    shop/cart-7d9f4b8c6-aaaaa\n    shop/web-5f8bb9c7d-bbbbb\n" in section
    assert "  kubectl describe node worker-3" in section
    assert "  kubectl get pods -A --field-selector spec.nodeName=worker-3" in section
    assert "node worker-4" not in table, "one failing pod on a node is no node pattern"


def test_a_node_without_pressure_still_groups_but_does_not_accuse_the_node(tmp_path: Path) -> None:
    pods = [_crashing("cart-7d9f4b8c6-aaaaa", "worker-3"), _crashing("cart-7d9f4b8c6-ddddd", "worker-3")]
    dump = write_dump_dir(tmp_path / "dump", pods=pods, nodes=[node("worker-3")])
    r = run_diagnose("--dump", str(dump))
    assert r.returncode == 0, r.stderr
    assert "node worker-3 (no pressure condition reported): 2 failing pods of 1 workload run here\n" in r.stdout
    assert "look at the node first" not in r.stdout


def test_json_output_is_unchanged_by_the_node_view(tmp_path: Path) -> None:
    pods = [_crashing("cart-7d9f4b8c6-aaaaa", "worker-3"), _crashing("web-5f8bb9c7d-bbbbb", "worker-3")]
    dump = write_dump_dir(tmp_path / "dump", pods=pods, nodes=[node("worker-3", pressures=["DiskPressure"])])
    r = run_diagnose("--dump", str(dump), "-o", "json")
    assert r.returncode == 0, r.stderr
    assert "kubectl describe node" not in r.stdout
