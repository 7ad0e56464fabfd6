"""`--rules-file`: user log patterns classify, and a broken file fails with one clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashloop_exporter.classify import classify
from crashloop_exporter.errors import RulesFileError
from crashloop_exporter.inputs.rules_file import load_rules_file
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


BACKTRACKING_LINE = "a" * 60 + "!"
"""`(a|aa)+$` on this line takes about 1.6^60 steps in a backtracking engine."""


def test_catastrophic_pattern_matches_in_linear_time(tmp_path: Path) -> None:
    """A user rule like `(a|aa)+$` is matched by RE2, so classification finishes instead of hanging."""
    rules = load_rules_file(_write(tmp_path, "rules:\n  - cause: bad_config\n    pattern: '(a|aa)+$'\n"))
    log = f"boot\n{BACKTRACKING_LINE}\n" * 20 + "aaaa\n"
    [f] = classify(parse_pod(POD), logs={"api": log}, now=NOW, rules=rules)
    assert f.cause == "bad_config"
    [g] = classify(parse_pod(POD), logs={"api": f"boot\n{BACKTRACKING_LINE}\n"}, now=NOW, rules=rules)
    assert g.cause == "app_crash"


@pytest.mark.parametrize(
    "pattern",
    [r"(\w+) \1", r"foo(?=bar)", r"(?<!x)y", r"(?P<n>a)(?P=n)"],
    ids=["backreference", "lookahead", "lookbehind", "named-backreference"],
)
def test_pattern_without_linear_time_match_is_refused(tmp_path: Path, pattern: str) -> None:
    """A pattern RE2 cannot run is refused at load, in one sentence naming the file and the rule."""
    rules = f"rules:\n  - cause: bad_config\n    pattern: x\n  - cause: bad_config\n    pattern: '{pattern}'\n"
    path = _write(tmp_path, rules)
    with pytest.raises(RulesFileError) as err:
        load_rules_file(path)
    msg = str(err.value)
    assert f"--rules-file {path}: rules[1].pattern: RE2" in msg and "\n" not in msg, msg


def test_user_pattern_sees_a_bounded_line(tmp_path: Path) -> None:
    """A user pattern is matched against at most MAX_MATCH_CHARS of a line."""
    from crashloop_exporter.classify.user_rules import MAX_MATCH_CHARS

    rules = load_rules_file(_write(tmp_path, "rules:\n  - cause: bad_config\n    pattern: 'END'\n"))
    [pattern] = [p for p in rules.for_cause("bad_config") if p.pattern == "END"]
    assert pattern.search("x" * (MAX_MATCH_CHARS - 3) + "END") is not None
    assert pattern.search("x" * MAX_MATCH_CHARS + "END") is None
