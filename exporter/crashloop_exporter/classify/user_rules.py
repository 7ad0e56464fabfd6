"""Log rules: the catalog's built-in log patterns, plus the user's `--rules-file`.

A rules file adds patterns to a cause, or replaces a cause's built-in patterns:

    rules:
      - cause: dependency_unavailable
        pattern: 'upstream "[^"]+" unreachable'
      - cause: bad_config
        pattern: 'config key \\S+ is deprecated and was removed'
        description: our config loader's fatal message
    replace: [bad_config]          # optional: drop the built-in patterns of these causes

The file is read (and its YAML parsed) at the edge, by `crashloop_exporter.inputs.rules_file`, so
the classifier stays free of I/O; this module validates and compiles the parsed data. It is
validated once at start; any problem is one `RulesFileError` sentence naming the file, the
rule's index and the field, so a broken file fails the rollout instead of silently classifying less.

User patterns run on RE2 (`google-re2`), not on Python's backtracking `re`: a pattern such as
`(a|aa)+$` takes exponential time in `re` on a 60-character line, which would hang `diagnose` and
block the exporter's event loop. RE2 matches in time linear in the line, and refuses at load what it
cannot do in linear time (backreferences, lookarounds, possessive quantifiers). Its `\\d`, `\\w` and
`\\b` are ASCII-only. Each match also sees at most MAX_MATCH_CHARS of a line. The catalog's own
patterns are reviewed code and stay on `re`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

from crashloop_exporter.catalog import BY_ID, CAUSES
from crashloop_exporter.classify.logs import MAX_LINE_CHARS, LogPattern
from crashloop_exporter.errors import RulesFileError

MAX_PATTERN_CHARS = 1000
MAX_MATCH_CHARS = MAX_LINE_CHARS
"""Characters of a log line a user pattern is matched against (the tail is cut there already;
this keeps the bound where the untrusted pattern runs, whoever calls it)."""
_RULE_KEYS = frozenset({"cause", "pattern", "description"})
_TOP_KEYS = frozenset({"rules", "replace"})
_FLAGS = re.IGNORECASE | re.MULTILINE


@dataclass(frozen=True, slots=True)
class LogRules:
    """Compiled log patterns per cause id, built-in first unless replaced."""

    patterns: Mapping[str, tuple[LogPattern, ...]] = field(default_factory=dict)
    source: str = "built-in"

    def for_cause(self, cause_id: str) -> tuple[LogPattern, ...]:
        return self.patterns.get(cause_id, ())

    @property
    def log_causes(self) -> tuple[str, ...]:
        """Causes with at least one log pattern, in catalog priority order."""
        return tuple(c.id for c in CAUSES if self.patterns.get(c.id))


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, _FLAGS)
    except re.error as e:
        raise RulesFileError(f"{where}: pattern is not a valid regular expression ({e})") from e


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print its own error to stderr; ours is the one sentence


class UserPattern:
    """A user's log pattern compiled by RE2: linear-time, on at most MAX_MATCH_CHARS per line."""

    __slots__ = ("_regex", "pattern")

    def __init__(self, pattern: str, where: str) -> None:
        _compile(pattern, where)  # Python's syntax first: its error messages say more
        self.pattern = pattern
        try:
            # The same flags as the catalog's patterns (re.IGNORECASE | re.MULTILINE), inline.
            self._regex: Any = re2.compile(f"(?im){pattern}", _RE2_OPTIONS)
        except re2.error as e:
            detail = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
            raise RulesFileError(
                f"{where}: RE2, the linear-time engine user rules run on, rejects this pattern ({detail}); "
                "it has no backreferences, lookarounds or possessive quantifiers"
            ) from e

    def search(self, string: str, /) -> Any:
        """The first match in `string` (cut to MAX_MATCH_CHARS), with `groupdict()`, or None."""
        return self._regex.search(string[:MAX_MATCH_CHARS])

    def __repr__(self) -> str:
        return f"UserPattern({self.pattern!r})"


def builtin_rules() -> LogRules:
    """The catalog's patterns, compiled (the catalog compiled them already, and checked them)."""
    return LogRules(patterns={c.id: tuple(CAUSES.rx(w) for w in c.log_patterns) for c in CAUSES})


DEFAULT_RULES = builtin_rules()
_default: list[tuple[int, LogRules]] = [(CAUSES.version, DEFAULT_RULES)]


def default_rules() -> LogRules:
    """The built-in rules of the catalog as it is now (rebuilt when a test adds a cause)."""
    version, rules = _default[0]
    if version != CAUSES.version:
        rules = builtin_rules()
        _default[0] = (CAUSES.version, rules)
    return rules


def rules_from_data(data: Any, *, source: str) -> LogRules:
    """Validate parsed YAML `data` and merge it over the built-in rules."""
    if data is None:
        return default_rules()
    builtin = default_rules()
    replace, rules = _top_level(data, source)
    merged: dict[str, list[LogPattern]] = {
        cid: ([] if cid in replace else list(p)) for cid, p in builtin.patterns.items()
    }
    shadowed = {p.pattern.casefold(): cid for cid, ps in merged.items() for p in ps}
    for i, rule in enumerate(rules):
        where = f"{source}: rules[{i}]"
        cid, pattern = _rule(rule, where)
        other = shadowed.get(pattern.casefold())
        if other is not None:
            raise RulesFileError(
                f"{where}.pattern: {pattern!r} shadows the built-in pattern of cause {other}; drop the rule, "
                f"or list {other} under 'replace' to take its patterns over"
            )
        # User patterns go first: a site-specific message is more precise than the generic ones.
        merged[cid].insert(0, UserPattern(pattern, f"{where}.pattern"))
    return LogRules(patterns={k: tuple(v) for k, v in merged.items()}, source=source)


def _top_level(data: Any, source: str) -> tuple[list[str], Sequence[Any]]:
    """The checked `replace` cause ids and `rules` list of a rules file."""
    if not isinstance(data, Mapping):
        raise RulesFileError(f"{source}: expected a mapping with a 'rules' list at the top, got {type(data).__name__}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RulesFileError(f"{source}: unknown top-level key {sorted(unknown)[0]!r}; expected 'rules' and 'replace'")
    replace = data.get("replace", [])
    if not isinstance(replace, list) or not all(isinstance(r, str) for r in replace):
        raise RulesFileError(f"{source}: 'replace' must be a list of cause ids")
    for cid in replace:
        if cid not in BY_ID:
            raise RulesFileError(f"{source}: replace names unknown cause {cid!r}; known: {', '.join(BY_ID)}")
    rules = data.get("rules", [])
    if not isinstance(rules, Sequence) or isinstance(rules, str):
        raise RulesFileError(f"{source}: 'rules' must be a list")
    return replace, rules


def _rule(rule: Any, where: str) -> tuple[str, str]:
    """The checked (cause id, pattern) of one user rule."""
    if not isinstance(rule, Mapping):
        raise RulesFileError(f"{where}: expected a mapping with 'cause' and 'pattern'")
    extra = set(rule) - _RULE_KEYS
    if extra:
        raise RulesFileError(f"{where}: unknown field {sorted(extra)[0]!r}; expected cause, pattern, description")
    cid = rule.get("cause")
    if not isinstance(cid, str) or cid not in BY_ID:
        raise RulesFileError(f"{where}.cause: {cid!r} is not a catalog cause; known: {', '.join(BY_ID)}")
    if cid == CAUSES.unexplained:
        raise RulesFileError(f"{where}.cause: {cid!r} is what no rule matching means; pick a real cause")
    pattern = rule.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise RulesFileError(f"{where}.pattern: expected a non-empty regular expression string")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RulesFileError(f"{where}.pattern: longer than {MAX_PATTERN_CHARS} characters")
    return cid, pattern
