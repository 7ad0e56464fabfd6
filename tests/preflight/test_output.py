"""Output formats and exit codes: the table for people, JSON for scripts, GitHub annotations for PRs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crashloop_exporter.findings import Evidence, Finding
from crashloop_exporter.preflight.checks import PreflightFinding
from crashloop_exporter.preflight.report import escape_data, escape_property, exit_code, github_annotation, repo_path
from tests.cli.dumps import FINDING_KEYS

from .conftest import FIXTURES, run_cli

MIXED = FIXTURES / "SecretKeyNotFound" / "bundle-lacks-key.yaml"  # an error that --offline can see
WARNINGS_ONLY = FIXTURES / "MutableImageTag" / "images.yaml"
CLEAN = FIXTURES / "clean" / "kinds.json"


def test_json_has_the_diagnose_keys_plus_preflight_fields() -> None:
    """-o json: exactly Finding.to_json() keys plus phase, severity, file, line; failing false, exit_code null."""
    result = run_cli(["preflight", "-f", str(WARNINGS_ONLY), "--offline", "-o", "json"])
    findings = json.loads(result.stdout)
    assert len(findings) == 3
    for f in findings:
        assert set(f) == FINDING_KEYS | {"phase", "severity", "file", "line"}
        assert (f["phase"], f["failing"], f["exit_code"], f["restarts"]) == ("preflight", False, None, 0)
        assert f["file"] == str(WARNINGS_ONLY) and isinstance(f["line"], int)
        assert f["pod"] == f["workload"] == "report" and f["workload_kind"] == "Job"
    assert {f["container_type"] for f in findings} == {"init", "regular"}
    assert "1 error" not in result.stderr and "3 warnings" in result.stderr  # the summary goes to stderr


def test_table_shows_location_workload_container_severity_cause_message_fix() -> None:
    """-o table: one row per finding with file:line, workload, container, severity and cause, then message and fix."""
    result = run_cli(["preflight", "-f", str(MIXED), "--offline"])
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith("error"))
    line_no = next(i for i, t in enumerate(MIXED.read_text().splitlines(), 1) if "expect: SecretKeyNotFound" in t)
    for cell in ("missing_secret_key", f"{MIXED}:{line_no}", "Deployment production/payment-service",
                 "payment-service", "SecretKeyNotFound"):
        assert cell in row
    body = result.stdout.replace("\n    ", " ")
    assert "STRIPE_SECRET_KEY comes from secret stripe-secret key secret-key" in body
    assert "(its keys: publishable-key)" in body
    assert "kubectl patch secret stripe-secret -n production" in result.stdout
    assert lines[-1].startswith("crashloop-exporter preflight: 1 error, 0 warnings")


def test_clean_table_says_so() -> None:
    """No findings: one summary line, exit 0."""
    result = run_cli(["preflight", "-f", str(CLEAN), "--offline"])
    assert result.code == 0
    assert result.stdout.startswith("crashloop-exporter preflight: no problems found — 4 workloads in production")


@pytest.mark.parametrize(
    ("path", "flags", "code"),
    [
        (CLEAN, [], 0),
        (WARNINGS_ONLY, [], 0),
        (WARNINGS_ONLY, ["--strict"], 1),
        (MIXED, [], 1),
        (CLEAN, ["--strict"], 0),
    ],
    ids=["clean", "warnings-pass", "strict-warnings-fail", "errors-fail", "strict-clean"],
)
def test_exit_codes(path: Path, flags: list[str], code: int) -> None:
    """0 clean or warnings only, 1 with errors (or warnings under --strict)."""
    for output in ("table", "json", "github"):
        assert run_cli(["preflight", "-f", str(path), "--offline", "-o", output, *flags]).code == code


def test_skip_removes_a_check() -> None:
    """--skip drops a check's findings (so the exit code can pass); unknown ids are bad input."""
    assert run_cli(["preflight", "-f", str(WARNINGS_ONLY), "--offline", "--strict", "--skip", "MutableImageTag"]).code \
        == 0
    bad = run_cli(["preflight", "-f", str(WARNINGS_ONLY), "--offline", "--skip", "NoSuchCheck"])
    assert bad.code == 2 and "unknown check(s) NoSuchCheck" in bad.stderr


def test_list_checks_names_every_check_and_cause() -> None:
    """--list-checks prints the table --skip takes ids from."""
    result = run_cli(["preflight", "--list-checks"])
    assert result.code == 0
    assert "SecretNotFound" in result.stdout and "init_container_failed" in result.stdout


# --- GitHub workflow commands ---------------------------------------------------------------------


def test_escape_data_and_properties() -> None:
    """% first, then CR and LF in data; properties also escape : and ,."""
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("%0A") == "%250A"  # an already-escaped-looking text is not un-escaped by GitHub
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def _finding(*, file: str, message: str, remediation: str = "kubectl get secret s -n ns") -> PreflightFinding:
    f = Finding("production", "api", "api", "regular", "Deployment", "api", False, "missing_secret",
                "SecretNotFound", None, 0, (Evidence("spec", message),), remediation, "https://runbook/#x")
    return PreflightFinding(f, "error", file, 12)


def test_annotation_is_one_escaped_line() -> None:
    """A path with , and :, a message with % and newlines and an injected `::` command stay one annotation."""
    text = github_annotation(_finding(file="deploy/a,b:c.yaml", message="50% of\nnames\r\n::error::injected",
                                      remediation="line one\nline two"))
    assert "\n" not in text and "\r" not in text
    head, _, message = text.partition("::error file=")[2].partition("::")
    assert head == "deploy/a%2Cb%3Ac.yaml,line=12,title=crashloop-exporter preflight (missing_secret)"
    # printable() turns the control characters of the message into spaces; %-escaping comes last.
    assert message.startswith("Deployment production/api, container api: 50%25 of names  ::error::injected%0A")
    assert "%0AFix:%0Aline one%0Aline two%0ARunbook: https://runbook/#x" in message


def test_stdin_annotations_have_no_file() -> None:
    """Input from stdin has no file in the repository: no file/line properties, the line goes in the message."""
    text = github_annotation(_finding(file="<stdin>", message="m"))
    assert text.startswith("::error title=crashloop-exporter preflight (missing_secret)::<stdin> line 12: ")


def test_github_output_warning_and_error_commands() -> None:
    """-o github: ::error for errors, ::warning for warnings, errors first, one line each."""
    result = run_cli(["preflight", "-f", str(MIXED), "-f", str(WARNINGS_ONLY), "--offline", "-o", "github"])
    lines = result.stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::warning", "::warning"]
    assert f"file={repo_path(str(MIXED))}," in lines[0]
    assert "title=crashloop-exporter preflight (missing_secret_key)::" in lines[0]
    assert result.code == 1


def test_exit_code_function() -> None:
    """exit_code: errors always fail, warnings only under strict."""
    warning = PreflightFinding(_finding(file="f", message="m").finding, "warning", "f", 1)
    error = _finding(file="f", message="m")
    assert (exit_code([], strict=True), exit_code([warning], strict=False), exit_code([warning], strict=True),
            exit_code([error, warning], strict=False)) == (0, 0, 1, 1)


def test_annotation_paths_are_relative_to_the_workspace() -> None:
    """Absolute paths inside $GITHUB_WORKSPACE become repository-relative; others stay as given."""
    env = {"GITHUB_WORKSPACE": "/home/runner/work/repo/repo"}
    assert repo_path("/home/runner/work/repo/repo/k8s/app.yaml", environ=env) == "k8s/app.yaml"
    assert repo_path("/etc/app.yaml", environ=env) == "/etc/app.yaml"
    assert repo_path("k8s/app.yaml", environ=env) == "k8s/app.yaml"
