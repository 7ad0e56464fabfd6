"""`--rules-file`: user log patterns classify, and a broken file fails with one clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashloop_exporter.classify import classify, load_rules_file
from crashloop_exporter.errors import RulesFileError
from crashloop_exporter.parse import parse_pod

POD = {
    "metadata": {"name": "api-1", "namespace": "prod", "uid": "u-1"},
    "spec": {"containers": [{"name": "api", "image": "api:1"}]},
    "status": {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "api",
                "restartCount": 3,
                "ready": False,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-01-01T00:00:00Z"}},
            }
        ],
    },
}
NOW = 1704067300.0


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rules.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_user_pattern_adds_a_cause(tmp_path: Path) -> None:
    """A site-specific fatal line maps to the cause the user names."""
    rules = load_rules_file(
        _write(tmp_path, "rules:\n  - cause: dependency_unavailable\n    pattern: 'upstream \\S+ gone'\n")
    )
    [f] = classify(parse_pod(POD), logs={"api": "boot\nupstream billing gone\n"}, now=NOW, rules=rules)
    assert f.cause == "dependency_unavailable"
    [g] = classify(parse_pod(POD), logs={"api": "boot\nupstream billing gone\n"}, now=NOW)
    assert g.cause == "app_crash"


def test_replace_drops_builtin_patterns(tmp_path: Path) -> None:
    """`replace: [bad_config]` removes the built-in bad_config patterns."""
    rules = load_rules_file(_write(tmp_path, "replace: [bad_config]\nrules: []\n"))
    [f] = classify(parse_pod(POD), logs={"api": 'FATAL: invalid value for PORT: "x"\n'}, now=NOW, rules=rules)
    assert f.cause == "app_crash"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rules: [", "invalid YAML at line"),
        ("- just a list\n", "expected a mapping"),
        ("rules:\n  - cause: nope\n    pattern: x\n", "rules[0].cause: 'nope' is not a catalog cause"),
        ("rules:\n  - cause: bad_config\n    pattern: '(unclosed'\n", "rules[0].pattern: pattern is not a valid"),
        ("rules:\n  - cause: bad_config\n", "rules[0].pattern: expected a non-empty"),
        ("rules:\n  - cause: bad_config\n    pattern: x\n    colour: red\n", "unknown field 'colour'"),
        ("rulez: []\n", "unknown top-level key 'rulez'"),
        ("replace: [nope]\n", "replace names unknown cause 'nope'"),
        ("rules:\n  - cause: unknown\n    pattern: x\n", "pick a real cause"),
    ],
)
def test_broken_rules_file_fails_with_one_sentence(tmp_path: Path, text: str, fragment: str) -> None:
    """Each kind of mistake names the file, the rule and the field."""
    path = _write(tmp_path, text)
    with pytest.raises(RulesFileError) as err:
        load_rules_file(path)
    msg = str(err.value)
    assert fragment in msg and str(path) in msg and "\n" not in msg


def test_missing_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist says so."""
    with pytest.raises(RulesFileError, match="cannot read it"):
        load_rules_file(tmp_path / "absent.yaml")
