"""Label and field selectors, parsed and matched the way kube-apiserver does.

LIST and WATCH both filter with them, and a client that sends a malformed selector must get the
apiserver's 400 BadRequest, not a silently unfiltered list: the exporter passes `--label-selector`
through and filters Events with `involvedObject.kind=Pod`, so both grammars have to be right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from crashloop_exporter.errors import SimRequestError

_LABEL_KEY = re.compile(r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET_REQ = re.compile(r"^\s*(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    """One `key op values` term of a label selector."""

    key: str
    op: str
    """One of `=`, `!=`, `in`, `notin`, `exists`, `!exists`, `gt`, `lt`."""
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            # The apiserver treats a missing label as "not equal" (it matches).
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        bound = int(next(iter(self.values)))
        if not present or not value.lstrip("-").isdigit():
            return False
        return int(value) > bound if self.op == "gt" else int(value) < bound


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses (`a in (x,y),b` is two terms)."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _check_key(key: str) -> str:
    if not _LABEL_KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise SimRequestError(400, "BadRequest", f"unable to parse requirement: invalid label key {key!r}")
    return key


def _check_value(value: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise SimRequestError(400, "BadRequest", f"unable to parse requirement: invalid label value: {value!r}")
    return value


def _parse_label_term(term: str) -> LabelRequirement:
    term = term.strip()
    if not term:
        raise SimRequestError(400, "BadRequest", "unable to parse requirement: found '', expected: identifier")
    m = _SET_REQ.match(term)
    if m:
        values = frozenset(_check_value(v.strip()) for v in m.group("values").split(",") if v.strip())
        return LabelRequirement(_check_key(m.group("key")), m.group("op"), values)
    if term.startswith("!"):
        return LabelRequirement(_check_key(term[1:].strip()), "!exists")
    for token, op in (("!=", "!="), ("==", "="), ("=", "="), (">", "gt"), ("<", "lt")):
        key, sep, value = term.partition(token)
        if sep:
            value = value.strip()
            if op in ("gt", "lt") and not value.lstrip("-").isdigit():
                raise SimRequestError(
                    400, "BadRequest", f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                    f"an integer: {value!r}"
                )
            return LabelRequirement(_check_key(key.strip()), op, frozenset({_check_value(value)}))
    return LabelRequirement(_check_key(term), "exists")


def parse_label_selector(text: str) -> tuple[LabelRequirement, ...]:
    """`app=api,tier!=db,env in (prod,staging),!canary` to requirements; 400 on bad syntax."""
    if not text.strip():
        return ()
    return tuple(_parse_label_term(t) for t in _split_top_level(text))


def labels_match(requirements: tuple[LabelRequirement, ...], labels: Mapping[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """One `field=value` or `field!=value` term of a field selector."""

    field: str
    value: str
    negate: bool

    def matches(self, get: Callable[[str], str]) -> bool:
        return (get(self.field) == self.value) != self.negate


def parse_field_selector(text: str, *, supported: frozenset[str]) -> tuple[FieldRequirement, ...]:
    """`metadata.namespace=prod,status.phase!=Running`; fields outside `supported` are a 400,
    with the apiserver's own wording (`field label not supported: X`)."""
    if not text.strip():
        return ()
    reqs: list[FieldRequirement] = []
    for term in text.split(","):
        term = term.strip()
        token = next((t for t in ("!=", "==", "=") if t in term), None)
        if token is None:
            raise SimRequestError(400, "BadRequest", f"invalid selector: '{text}'; can't understand '{term}'")
        field, _, value = term.partition(token)
        field = field.strip()
        if field not in supported:
            raise SimRequestError(400, "BadRequest", f"field label not supported: {field}")
        reqs.append(FieldRequirement(field, value.strip(), token == "!="))
    return tuple(reqs)
