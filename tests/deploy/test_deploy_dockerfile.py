"""The Dockerfile's instructions have the properties the deploy manifests rely on.

No container engine runs here (and base images cannot be pulled), so the Dockerfile is parsed and
its instructions are checked: two stages on python:3.11-slim, a virtualenv copied into a final
image without build tools, a numeric non-root user matching the pod's runAsUser, the entry point
and port the manifests use, and no HEALTHCHECK. The build context is checked against .dockerignore.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from crashloop_exporter.settings import DEFAULT_PORT
from tests.deploy.deploy_helpers import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
RUN_AS = "65532"
BUILD_TOOLS = ("pip ", "pip3 ", "apt-get", "apt ", "gcc", "build-essential", "make ", "curl", "wget")


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str]:
        """The JSON-array ("exec") form of ENTRYPOINT/CMD; fails the test for the shell form."""
        try:
            parsed = json.loads(self.value)
        except ValueError:
            pytest.fail(f"line {self.line}: {self.keyword} must use the exec (JSON array) form: {self.value}")
        assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed)
        return parsed


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order; comments and blank lines dropped, `\\` continuations joined."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment line inside a continued instruction is ignored by Docker too
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(p for p in pending if p)
        keyword, _, value = joined.partition(" ")
        instructions.append(Instruction(keyword.upper(), value.strip(), start))
        pending = []
    assert not pending, "Dockerfile ends inside a continued instruction"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped by FROM (each stage starts with its FROM)."""
    grouped: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            grouped.append([])
        if grouped:
            grouped[-1].append(instruction)
    return grouped


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes; a pattern matching a parent
    directory matches everything below it."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/").replace("**/", "*").replace("/**", "/*")
        if any(fnmatch.fnmatchcase(candidate, glob) for candidate in candidates):
            excluded = not negate
    return excluded


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _base_image(instructions: list[Instruction]) -> str:
    args = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG" and "=" in instruction.value:
            name, _, default = instruction.value.partition("=")
            args[name] = default
    return args.get("PYTHON_IMAGE", "")


def test_parser_reads_continuations_and_exec_form() -> None:
    """The small parser joins continued lines and reads exec-form arrays (so the checks below see
    what Docker sees)."""
    parsed = parse_dockerfile('# c\nFROM a AS b\nRUN x \\\n  # inner\n  && y\nCMD ["serve"]\n')
    assert [(i.keyword, i.value) for i in parsed] == [("FROM", "a AS b"), ("RUN", "x && y"), ("CMD", '["serve"]')]
    assert parsed[2].exec_form() == ["serve"]


def test_two_stages_on_python_3_11_slim(instructions: list[Instruction]) -> None:
    """A builder stage and a final stage, both FROM the python:3.11-slim base (an ARG a release can
    pin by digest)."""
    assert _base_image(instructions) == "python:3.11-slim"
    froms = [i.value for i in instructions if i.keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE}"]


def test_builder_installs_into_a_virtualenv(instructions: list[Instruction]) -> None:
    """The builder creates /opt/venv and pip-installs the package into it."""
    builder = stages(instructions)[0]
    runs = " ".join(i.value for i in builder if i.keyword == "RUN")
    assert "python -m venv /opt/venv" in runs
    assert "/opt/venv/bin/pip install" in runs


def test_final_stage_copies_the_venv_and_has_no_build_tools(instructions: list[Instruction]) -> None:
    """The final image gets /opt/venv from the builder and runs no package manager or compiler."""
    final = stages(instructions)[-1]
    copies = [i.value for i in final if i.keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"]
    for instruction in final:
        if instruction.keyword == "RUN":
            assert not any(tool in instruction.value + " " for tool in BUILD_TOOLS), instruction.value
    env = " ".join(i.value for i in final if i.keyword == "ENV")
    assert 'PATH="/opt/venv/bin:${PATH}"' in env


def test_runs_as_numeric_non_root_user_matching_the_pod(instructions: list[Instruction]) -> None:
    """USER is the numeric 65532:65532 the manifests set as runAsUser/runAsGroup (numeric, so
    Kubernetes' runAsNonRoot can verify it without reading /etc/passwd)."""
    final = stages(instructions)[-1]
    users = [i.value for i in final if i.keyword == "USER"]
    assert users == [f"{RUN_AS}:{RUN_AS}"]


def test_entrypoint_cmd_port_and_no_healthcheck(instructions: list[Instruction]) -> None:
    """ENTRYPOINT is the console script, CMD is `serve`, EXPOSE is the default port, and there is no
    HEALTHCHECK (Kubernetes probes cover it)."""
    final = stages(instructions)[-1]
    (entrypoint,) = [i for i in final if i.keyword == "ENTRYPOINT"]
    (cmd,) = [i for i in final if i.keyword == "CMD"]
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint.exec_form() == ["crashloop-exporter"] and "crashloop-exporter" in scripts
    assert cmd.exec_form() == ["serve"]
    assert [i.value for i in final if i.keyword == "EXPOSE"] == [str(DEFAULT_PORT)]
    assert not [i for i in instructions if i.keyword == "HEALTHCHECK"]


def test_copied_sources_exist_and_are_in_the_build_context(
    instructions: list[Instruction], ignore_patterns: list[str]
) -> None:
    """Every file the builder COPYs exists in the repo and is not excluded by .dockerignore."""
    builder = stages(instructions)[0]
    sources: list[str] = []
    for instruction in builder:
        if instruction.keyword == "COPY" and not instruction.value.startswith("--from"):
            sources.extend(instruction.value.split()[:-1])
    assert "pyproject.toml" in sources and "exporter" in sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"COPY {source}: no such file in the repo"
        assert not dockerignore_excludes(source, ignore_patterns), f"COPY {source}: excluded by .dockerignore"
    assert not dockerignore_excludes("exporter/crashloop_exporter/cli/main.py", ignore_patterns)


@pytest.mark.parametrize("path", [".venv/bin/python", ".git/config", "tests/deploy/conftest.py",
                                  "exporter/crashloop_exporter/__pycache__/x.pyc", "deploy/base/deployment.yaml"])
def test_dockerignore_keeps_other_files_out(path: str, ignore_patterns: list[str]) -> None:
    """Virtualenvs, git metadata, tests, caches and manifests stay out of the build context."""
    assert dockerignore_excludes(path, ignore_patterns)


def test_image_user_matches_manifest_uid() -> None:
    """The manifests' runAsUser and the image's USER are the same number, read from both files."""
    deployment = (REPO_ROOT / "deploy" / "base" / "deployment.yaml").read_text()
    assert f"runAsUser: {RUN_AS}" in deployment and f"runAsGroup: {RUN_AS}" in deployment
    assert Path(DOCKERFILE).read_text().count(f"USER {RUN_AS}:{RUN_AS}") == 1
