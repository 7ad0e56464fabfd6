"""The sdist and wheel `python -m build` makes are what a user installs: twine accepts them, they hold
the package data (bundled dump, simulator scenarios, dashboards package) and nothing else, and the
wheel installed alone in a fresh virtualenv runs `--version`, `diagnose --example` and `demo`.

The wheel is built from the sdist (what `python -m build` does), so a file the sdist forgets breaks
the wheel too. One build and one virtualenv serve the whole module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from crashloop_exporter.catalog import CAUSE_IDS
from tests.e2e.harness import wait_until
from tests.integration.procs import http

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
DIST_NAME = PROJECT["name"].replace("-", "_")
VERSION = PROJECT["version"]
PACKAGE_ROOTS = {"crashloop_exporter": "exporter", "crashloop_dashboards": "dashboards"}
"""Each installed package and the source folder it is found in (tool.setuptools.packages.find)."""
DEMO_SECONDS = 20


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


def _run(argv: list[str], *, timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run to the end; a non-zero exit fails the test with what the command printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def _tracked_package_files() -> set[str]:
    """Every file git tracks in the packages, as its path inside the wheel."""
    out = _run(["git", "ls-files", "--", *(f"{src}/{pkg}" for pkg, src in PACKAGE_ROOTS.items())],
               cwd=REPO, timeout=60).stdout
    files = {line.split("/", 1)[1] for line in out.splitlines() if line}
    assert any(f.startswith("crashloop_exporter/examples/") for f in files), "git ls-files found no examples"
    return files


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], timeout=600)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dist(sdist=sdist, wheel=wheel)


@pytest.fixture(scope="module")
def venv_bin(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the wheel and its dependencies from the index, nothing else."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    _run([*pip, str(dist.wheel)], timeout=900)
    return venv / "bin"


def test_twine_check_passes_for_sdist_and_wheel(dist: Dist) -> None:
    """`twine check --strict` accepts both files: metadata and the README render as PyPI would."""
    out = _run([sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)], timeout=120)
    text = out.stdout + out.stderr
    assert text.count("PASSED") == 2, text
    assert dist.sdist.name == f"{DIST_NAME}-{VERSION}.tar.gz"
    assert dist.wheel.name == f"{DIST_NAME}-{VERSION}-py3-none-any.whl"


def test_wheel_holds_every_package_file_and_nothing_else(dist: Dist) -> None:
    """The wheel is the tracked package files (modules, examples, scenarios, py.typed, the dashboards
    package) plus its dist-info with the license; no caches, tests or repository files."""
    with zipfile.ZipFile(dist.wheel) as whl:
        names = set(whl.namelist())
    info = f"{DIST_NAME}-{VERSION}.dist-info/"
    payload = {n for n in names if not n.startswith(info)}
    expected = _tracked_package_files()
    assert payload == expected, f"missing: {sorted(expected - payload)}\nunexpected: {sorted(payload - expected)}"
    assert {f"{info}licenses/LICENSE", f"{info}METADATA", f"{info}entry_points.txt"} <= names
    assert "crashloop_exporter/sim/scenarios/" in "".join(sorted(payload))
    with zipfile.ZipFile(dist.wheel) as whl:
        metadata = whl.read(f"{info}METADATA").decode()
        entry_points = whl.read(f"{info}entry_points.txt").decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "crashloop-exporter = crashloop_exporter.cli.main:main" in entry_points


def test_sdist_holds_the_build_inputs_and_no_repository_junk(dist: Dist) -> None:
    """The sdist rebuilds the wheel (pyproject, README, packages) and carries LICENSE and CHANGELOG.md;
    tests, the virtualenv, git metadata and caches stay out."""
    root = f"{DIST_NAME}-{VERSION}/"
    with tarfile.open(dist.sdist) as tar:
        names = {m.name.removeprefix(root) for m in tar.getmembers() if m.isfile()}
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO"} <= names
    sources = {f"{PACKAGE_ROOTS[f.split('/', 1)[0]]}/{f}" for f in _tracked_package_files()}
    assert sources <= names, f"missing from the sdist: {sorted(sources - names)}"
    junk = [n for n in names if re.search(r"(^|/)(__pycache__|\.git|\.venv|tests|\.mypy_cache)/|\.pyc$", n)]
    assert not junk, junk


def test_installed_wheel_reports_its_version(venv_bin: Path, tmp_path: Path) -> None:
    """The console script from the wheel prints the version pyproject declares, and runs the
    installed package, not the repository's source."""
    out = _run([str(venv_bin / "crashloop-exporter"), "--version"], cwd=tmp_path, timeout=60)
    assert out.stdout.strip() == f"crashloop-exporter {VERSION}"
    where = _run([str(venv_bin / "python"), "-c", "import crashloop_exporter; print(crashloop_exporter.__file__)"],
                 cwd=tmp_path, timeout=60).stdout.strip()
    assert Path(where).is_relative_to(venv_bin.parent), where


def test_installed_wheel_diagnoses_the_bundled_example(venv_bin: Path, tmp_path: Path) -> None:
    """`diagnose --example` reads the dump shipped as package data and names its causes and fixes."""
    out = _run([str(venv_bin / "crashloop-exporter"), "diagnose", "--example"], cwd=tmp_path, timeout=120).stdout
    assert "payment-service" in out and "missing_secret" in out, out
    assert "oomkilled" in out and "exit code 137" in out, out
    assert "kubectl create secret generic stripe-secret" in out, out


def _metric_causes(body: str) -> set[str]:
    return set(re.findall(r'^crashloop_(?:container_failing|crashes_total)\{[^}]*cause="([a-z_]+)"', body, re.M))


def test_installed_wheel_demo_serves_metrics_and_stops_by_itself(venv_bin: Path, tmp_path: Path) -> None:
    """`demo --duration 20` from the wheel starts the simulator (its scenarios are package data),
    serves /metrics with crashes by cause, prints the cause table and exits 0 on its own."""
    argv = [str(venv_bin / "crashloop-exporter"), "demo", "--duration", str(DEMO_SECONDS),
            "--listen-address", "127.0.0.1:0", "--refresh", "5"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        url = None
        while url is None and time.monotonic() - started < DEMO_SECONDS:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"^metrics:\s+(http://\S+)/metrics", line)
            url = m.group(1) if m else None
        assert url, "demo printed no metrics URL:\n" + "".join(lines)
        seen: set[str] = set()

        def crashes_by_cause() -> bool:
            status, body = http("GET", f"{url}/metrics")
            seen.update(_metric_causes(body.decode()) if status == 200 else set())
            return len(seen) >= 3 and http("GET", f"{url}/healthz")[0] == 200

        wait_until(crashes_by_cause, timeout=DEMO_SECONDS - 5, interval=1,
                   what=f"/metrics to show crashes by cause (saw {sorted(seen)})")
        assert seen <= CAUSE_IDS, sorted(seen - CAUSE_IDS)
        rest, _ = proc.communicate(timeout=DEMO_SECONDS + 30)
        lines.append(rest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert time.monotonic() - started < DEMO_SECONDS + 30
    table = re.findall(r"^(\d+) of (\d+) causes seen$", output, re.M)
    assert table, "demo printed no cause table:\n" + output
    assert int(table[-1][1]) == len(CAUSE_IDS) and int(table[-1][0]) >= 1, output
    assert "Traceback" not in output, output
