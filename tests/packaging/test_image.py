"""The container image `make image` builds from the Dockerfile runs as the Deployment runs it:
UID 65532 on a read-only root filesystem, with no network, `--version` and `diagnose --example`.

Building the image takes minutes (a Debian base with mmdebstrap, a wheelhouse, a podman build), so
it is marked `image`, which the default run deselects: `pytest -m image tests/packaging/test_image.py`
(scripts/install-image-deps.sh installs podman, runc and mmdebstrap). Asked for and unable to run
(no podman, a failed build), the test fails, never skips.
The image goes into a podman store of its own under the test's temporary directory, so the
machine's images are left alone; the Debian base tarball is cached in build/image/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crashloop_exporter.settings import DEFAULT_PORT

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
RUN_AS = "65532"
IMAGE = f"localhost/crashloop-exporter:{VERSION}-test"
pytestmark = pytest.mark.image


@dataclass(frozen=True)
class Podman:
    argv: list[str]
    """podman with the test's own store and the runtime the build script picked."""

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.argv, *args], capture_output=True, text=True, timeout=timeout, check=False)

    def run_image(self, *args: str, entrypoint: str | None = None) -> subprocess.CompletedProcess[str]:
        """`podman run` as the Deployment runs the container: read-only root, UID 65532, no network.
        The limits are lowered (never raised), as scripts/build-image.sh explains."""
        override = ["--entrypoint", entrypoint] if entrypoint else []
        return self.run("run", "--rm", "--read-only", "--user", RUN_AS, "--network", "none",
                        "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", *override, IMAGE, *args)


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    missing = [tool for tool in ("podman", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the image test needs {', '.join(missing)} (scripts/install-image-deps.sh)")
    store = tmp_path_factory.mktemp("podman")
    opts = f"--root {store}/root --runroot {store}/run --cgroup-manager cgroupfs --events-backend file"
    if shutil.which("runc"):
        opts += " --runtime runc"  # as scripts/build-image.sh picks it
    env = {**os.environ, "PODMAN_OPTS": opts, "IMAGE": IMAGE}
    started = time.monotonic()
    build = subprocess.run([str(REPO / "scripts" / "build-image.sh")], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=1800, check=False)
    seconds = time.monotonic() - started
    print(f"\nscripts/build-image.sh took {seconds:.0f}s:\n{build.stdout}")
    if build.returncode != 0:
        pytest.fail(f"build-image.sh exited {build.returncode}\nstdout:\n{build.stdout}\nstderr:\n{build.stderr}")
    podman = Podman(argv=["podman", *opts.split()])
    yield podman
    podman.run("rmi", "--all", "--force")


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_image_prints_its_version_as_65532_on_a_read_only_root(podman: Podman) -> None:
    """`--version` through the image's entry point, as UID 65532 with the root filesystem read-only."""
    assert _ok(podman.run_image("--version")).strip() == f"crashloop-exporter {VERSION}"


def test_image_diagnoses_the_bundled_example_read_only(podman: Podman) -> None:
    """`diagnose --example` reads the packaged dump and prints causes and fixes, writing nothing."""
    out = _ok(podman.run_image("diagnose", "--example"))
    assert "payment-service" in out and "missing_secret" in out, out
    assert "oomkilled" in out and "kubectl create secret generic stripe-secret" in out, out


def test_image_runs_as_the_pods_user_without_an_installer(podman: Podman) -> None:
    """UID 65532 resolves to the image's nonroot account and group, and the final image has no pip."""
    ids = _ok(podman.run_image(entrypoint="id"))
    assert ids.startswith(f"uid={RUN_AS}(nonroot) gid={RUN_AS}(nonroot)"), ids
    no_pip = podman.run_image("-c", "import pip", entrypoint="python")
    assert no_pip.returncode != 0 and "No module named 'pip'" in no_pip.stderr, no_pip.stderr


def test_image_config_matches_the_manifests(podman: Podman) -> None:
    """USER, ENTRYPOINT, CMD and the port are what deploy/ expects; the offline build's pip settings
    (build args) did not leak into the image's environment."""
    (inspect,) = json.loads(_ok(podman.run("image", "inspect", IMAGE)))
    config = inspect["Config"]
    assert config["User"] == f"{RUN_AS}:{RUN_AS}"
    assert config["Entrypoint"] == ["crashloop-exporter"] and config["Cmd"] == ["serve"]
    assert f"{DEFAULT_PORT}/tcp" in config["ExposedPorts"]
    assert not [e for e in config["Env"] if e.startswith("PIP_")], config["Env"]
    assert inspect["Labels"]["org.opencontainers.image.version"] == VERSION
