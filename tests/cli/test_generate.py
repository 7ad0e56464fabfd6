"""`crashloop-exporter generate [--check]`: one generator for every artifact, and its check names each stale file.

Each artifact keeps its own staleness test next to its other tests (tests/rules, tests/dashboards,
tests/deploy); these pin the command itself, on the checked-in tree and on a generated copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crashloop_exporter import artifacts
from crashloop_exporter.cli.main import main
from crashloop_exporter.errors import InputError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout holding only the hand-written source of the wrappers, then everything `generate` writes."""
    root = tmp_path_factory.mktemp("generated")
    (root / "deploy" / "base").mkdir(parents=True)
    shutil.copy(REPO / artifacts.ROOT_MARKER, root / artifacts.ROOT_MARKER)
    assert main(["generate", "--root", str(root)]) == 0
    return root


@pytest.fixture
def tree(generated: Path, tmp_path: Path) -> Path:
    """A fresh copy of the generated checkout, for one test to edit."""
    return Path(shutil.copytree(generated, tmp_path / "tree"))


def test_check_passes_on_the_checked_in_tree(capsys: pytest.CaptureFixture[str]) -> None:
    """`generate --check` exits 0 and prints nothing on the repository as committed."""
    assert main(["generate", "--check", "--root", str(REPO)]) == 0
    assert capsys.readouterr().err == ""


def test_runbook_is_fresh() -> None:
    """docs/causes.md is what the catalog renders (the runbook's own staleness test)."""
    assert artifacts.stale_files(REPO, only=["runbook"]) == []


def test_generate_writes_every_artifact(generated: Path) -> None:
    """One `generate` writes the runbook, the rules pack, the dashboards and the deploy wrappers."""
    for rel in ("docs/causes.md", "rules/crashloop-exporter.rules.yaml", "rules/alertmanager/alertmanager.yml",
                "dashboards/crashloop-overview.json", "deploy/sharded/statefulset.yaml",
                "deploy/prometheus-operator/prometheusrules.yaml",
                "deploy/prometheus-operator/grafana-dashboards.yaml"):
        assert (generated / rel).is_file(), rel
    assert artifacts.stale_files(generated) == []


@pytest.mark.parametrize("rel", [
    "docs/causes.md",
    "docs/metrics.md",
    "rules/crashloop-exporter.rules.yaml",
    "dashboards/crashloop-overview.json",
    "deploy/sharded/statefulset.yaml",
    "deploy/helm/crashloop-exporter/files/rules/crashloop-exporter.rules.yaml",
], ids=["runbook", "metrics", "rules", "dashboards", "deploy", "helm"])
def test_check_fails_naming_the_one_edited_file(tree: Path, rel: str, capsys: pytest.CaptureFixture[str]) -> None:
    """After a hand edit of one artifact, `generate --check` exits 1 and names exactly that file."""
    assert main(["generate", "--check", "--root", str(tree)]) == 0
    path = tree / rel
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["generate", "--check", "--root", str(tree)]) == 1
    err = capsys.readouterr().err
    assert f"{path} is stale" in err
    assert err.count(" is stale") == 1, err
    assert "make generate" in err


def test_check_names_orphans_and_missing_files(tree: Path) -> None:
    """A dashboard JSON without a builder (and so the ConfigMaps and the chart's copy of it), a leftover generated
    rules test and a deleted artifact are all stale."""
    (tree / "dashboards" / "hand-made.json").write_text("{}\n", encoding="utf-8")
    header = (tree / "rules" / "tests" / "causes.test.yaml").read_text(encoding="utf-8").splitlines()[0]
    (tree / "rules" / "tests" / "removed-group.test.yaml").write_text(header + "\n", encoding="utf-8")
    (tree / "docs" / "causes.md").unlink()
    assert artifacts.stale_files(tree) == [
        "docs/causes.md", "rules/tests/removed-group.test.yaml", "dashboards/hand-made.json",
        "deploy/prometheus-operator/grafana-dashboards.yaml",
        "deploy/helm/crashloop-exporter/files/dashboards/hand-made.json",
    ]


def test_root_that_is_not_a_checkout_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`generate --root DIR` outside a checkout exits 2 with one sentence and writes nothing."""
    assert main(["generate", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a crashloop-exporter checkout" in err
    assert list(tmp_path.iterdir()) == []


def test_dashboards_without_the_sdk_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the Grafana SDK (no dev extra), rendering the dashboards names what to install."""
    for name in [m for m in sys.modules if m.startswith(("crashloop_dashboards", "grafana_foundation_sdk"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "grafana_foundation_sdk", None)
    with pytest.raises(InputError, match=r"grafana_foundation_sdk\S* is missing.*\[dev\]"):
        artifacts.stale_files(REPO, only=["dashboards"])


def test_exporter_imports_without_the_sdk() -> None:
    """Every subcommand's module imports with the Grafana SDK absent: only `generate` needs it, lazily."""
    code = ("import sys; sys.modules['grafana_foundation_sdk'] = None\n"
            "from crashloop_exporter.cli.main import build_parser; build_parser()\n"
            "assert not any(m.startswith('crashloop_dashboards') for m in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_module_entry_point_checks_from_the_checkout() -> None:
    """`python -m crashloop_exporter generate --check` (what `make generate`'s check runs) exits 0 at the top."""
    result = subprocess.run([sys.executable, "-m", "crashloop_exporter", "generate", "--check"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
