"""Turn the bytes of a manifest or dump file into Kubernetes objects, with locations for errors.

kubectl prints JSON one value after another (`cluster-info dump` writes a dozen lists in a row, a
shell loop over `kubectl get -o json` appends them) and YAML as `---`-separated documents. Both
are read here, once, for `diagnose -f`, `diagnose --dump` and `preflight -f`, so that they agree
on what is valid and every error is one sentence in one wording: the file, the document and its
line, and what was expected. `preflight` also asks for the line index (`LineIndex`: the line of
every field of a document), so that its findings point at the line a reviewer can open.

The input is hostile as often as it is broken: `preflight` runs in CI on pull-request content and
`diagnose` on dumps attached to tickets. So the one YAML loader (`KubeYamlLoader`, which `preflight`
uses too) refuses a document whose aliases expand it past `MAX_ALIAS_EXPANSION` nodes before it is
constructed (a 2 KB "billion laughs" grows to gigabytes once a consumer turns it into text), and a
JSON value nested past Python's recursion limit is an InputError rather than a RecursionError.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from crashloop_exporter.errors import InputError
from crashloop_exporter.inputs.snapshot import LIST_KINDS, OBJECT_KINDS, Warn, kind_of
from crashloop_exporter.refs import PathPart

FieldPath = tuple[PathPart, ...]

MAX_DEPTH = 64
"""Deeper than any Kubernetes object; bounds the line-index walk on hostile input."""
MAX_INDEXED_NODES = 200_000
"""Nodes indexed per document; a larger document (a huge ConfigMap) keeps coarser line numbers."""



class LineIndex:
    """1-based line numbers of the fields of one document, by path.

    A mapping entry is indexed at its key's line, a sequence item at the line it starts on. A path
    that is not in the document (a field we report as *missing*) resolves to its deepest existing
    ancestor, so "no memory limit" points at the container, or at its `resources:` if present.
    """

    def __init__(self, lines: Mapping[FieldPath, int], *, root_line: int) -> None:
        self._lines = dict(lines)
        self.root_line = root_line

    def line(self, path: FieldPath) -> int:
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return self.root_line

    @classmethod
    def from_node(cls, node: yaml.Node, *, base_line: int = 1) -> LineIndex:
        """Index every mapping key and sequence item under `node` (a composed document)."""
        lines: dict[FieldPath, int] = {}
        offset = base_line  # node marks are 0-based within the composed text
        stack: list[tuple[yaml.Node, FieldPath]] = [(node, ())]
        visited: set[int] = set()  # an alias is indexed once; a recursive one (&a [*a]) must not loop
        while stack and len(lines) < MAX_INDEXED_NODES:
            current, path = stack.pop()
            if len(path) > MAX_DEPTH or id(current) in visited:
                continue
            if isinstance(current, yaml.MappingNode):
                visited.add(id(current))
                for key_node, value_node in current.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue
                    child = (*path, str(key_node.value))
                    lines.setdefault(child, key_node.start_mark.line + offset)
                    stack.append((value_node, child))
            elif isinstance(current, yaml.SequenceNode):
                visited.add(id(current))
                for i, item in enumerate(current.value):
                    child = (*path, i)
                    lines.setdefault(child, item.start_mark.line + offset)
                    stack.append((item, child))
        return cls(lines, root_line=node.start_mark.line + offset)


_YAML_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_ALIAS_EXPANSION = 100_000
"""Nodes that aliases may add to one YAML document. Real manifests reuse a few small anchors
(`<<: *defaults`); a "billion laughs" adds 10^9. Without aliases a document costs what its text
costs, so this bounds only the amplification, never the size of a big PodList."""


class AliasBombError(yaml.MarkedYAMLError):
    """A YAML document whose aliases expand past MAX_ALIAS_EXPANSION nodes, or refer to themselves."""


def check_alias_expansion(root: yaml.Node, *, limit: int = MAX_ALIAS_EXPANSION) -> None:
    """Raise AliasBombError when aliases make `root` expand to more than `limit` extra nodes.

    A composed document is a graph: every alias is the anchored node itself, shared, so composing
    costs no more than the text. Expansion happens later, in whatever walks the constructed value
    (str() of an aliased memory limit, json.dumps, a recursive check). The expanded size of each
    node is counted once, bottom-up, without expanding anything; an alias that contains itself
    (`&a [*a]`) would expand forever, and no Kubernetes object is recursive, so it is refused too.
    """
    size: dict[int, int] = {}  # id(node) -> nodes in its expansion, itself included
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            size[key] = total
            # size[key] - len(size) never exceeds what aliases add to the whole document, since
            # every node counted in `size` is distinct: so this stops a bomb at its first big level.
            if total - len(size) > limit:
                raise AliasBombError(
                    problem=f"aliases expand this document by more than {limit:,} nodes (a YAML alias bomb); "
                    "refusing to read it",
                    problem_mark=node.start_mark,
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise AliasBombError(problem="an alias refers to the node that contains it (a recursive alias); "
                                 "refusing to read it", problem_mark=node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class KubeYamlLoader(_YAML_BASE):  # type: ignore[valid-type,misc]
    """Safe loader that keeps timestamps as strings, as the API serves them, and refuses alias bombs.

    YAML 1.1 would turn an unquoted `2024-03-15T02:14:22Z` into a datetime; kubectl quotes them,
    but hand-edited files often do not, and `parse` reads RFC 3339 strings. Every composed document
    goes through `check_alias_expansion` before anyone constructs it; a text without an anchor (`&`)
    cannot hold an alias, so kubectl's own output skips the walk.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._may_alias = "&" in stream

    def get_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_node()
        if node is not None and self._may_alias:
            check_alias_expansion(node)
        return node

    def get_single_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_single_node()
        if node is not None and self._may_alias:
            check_alias_expansion(node)
        return node


KubeYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_JSON = json.JSONDecoder()
_WS = " \t\r\n"


def decode_bytes(data: bytes) -> str:
    """Text of a file: UTF-8 (BOM tolerated), or UTF-16 with a BOM (PowerShell's `>` writes that)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset (O(offset): for one-off error messages)."""
    return text.count("\n", 0, offset) + 1


class LineCounter:
    """Line numbers of increasing offsets in one text, counted incrementally.

    A dump stream is tens of MB with thousands of log sections; counting from the start for each
    one would be quadratic.
    """

    def __init__(self, text: str, *, base_line: int = 1) -> None:
        self.text = text
        self.base_line = base_line
        self.offset = 0
        self.line = base_line

    def at(self, offset: int) -> int:
        """The line of `offset` (counted from `base_line`); cheap when offsets only grow."""
        if offset < self.offset:
            self.offset, self.line = 0, self.base_line
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def document_where(file: str, index: int, line: int) -> str:
    """`app.yaml document 2 (line 11)`: how every message names a document (or JSON value) of a file."""
    return f"{file} document {index} (line {line})"


@dataclass(frozen=True, slots=True)
class Document:
    """One top-level value of a file, and where it started."""

    value: Any
    file: str
    """The file as the user named it (`<stdin>` for `-`)."""
    index: int
    """1-based index of the YAML document or JSON value in the file."""
    line: int
    """The line it starts on."""
    lines: LineIndex = field(compare=False, repr=False)
    """Lines of its fields when read with `index_lines=True`; otherwise every field is at `line`."""

    @property
    def where(self) -> str:
        return document_where(self.file, self.index, self.line)


_FIRST_OBJECT_LINE = re.compile(r"^(?:[{\[]|(?:apiVersion|kind|items|metadata):)", re.M)


def is_json(text: str) -> bool:
    """JSON when kubectl's JSON starts the text, or starts a line before any YAML top-level key does
    (a dump saved with `2>&1` or pasted from a terminal can begin with warnings or a prompt)."""
    if text.lstrip(_WS + "\ufeff")[:1] in ("{", "["):
        return True
    m = _FIRST_OBJECT_LINE.search(text)
    return m is not None and m.group()[0] in "{["


class JsonTooDeepError(ValueError):
    """A JSON value nested deeper than the decoder can recurse."""


def decode_json_value(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value starting at `pos`, and where it ends (json.JSONDecoder.raw_decode).

    The decoder recurses once per nesting level, so `[[[[...]]]]` 100k deep is a RecursionError;
    Kubernetes objects are a few dozen levels deep, so such a value is bad input, not a crash.
    """
    try:
        return _JSON.raw_decode(text, pos)
    except RecursionError as e:
        raise JsonTooDeepError(
            f"nested too deeply (more than about {sys.getrecursionlimit()} levels; "
            "a Kubernetes object is a few dozen)"
        ) from e


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _invalid(file: str, index: int, line: int, column: int | None, what: str, problem: object) -> InputError:
    """The one wording of a document that does not parse: file, document, position, what was expected."""
    at = f"line {line}" if column is None else f"line {line} column {column}"
    return InputError(f"{file} document {index} ({at}): invalid {what}: {_one_line(problem)}")


def iter_json_values(
    text: str, *, file: str, warn: Warn | None, base_line: int = 1, first_index: int = 1, index_lines: bool = False
) -> Iterator[Document]:
    """Every JSON value in `text`, one after another (concatenated output of several kubectl calls).

    With `warn`, a line between values that is not JSON (a `Warning: ...` kubectl printed on stderr
    into the same file) is skipped with a warning; without it, it is invalid JSON, as is a value
    that does not parse.
    """
    pos, n, index = 0, len(text), first_index - 1
    lines = LineCounter(text, base_line=base_line)
    skipped: list[tuple[int, str]] = []  # a run of non-JSON lines, reported as one warning

    def report_skipped() -> None:
        if not skipped or warn is None:
            return
        first_line, first_text = skipped[0]
        if len(skipped) == 1:
            warn(f"warning: {file} line {first_line}: skipped text that is not JSON: {first_text!r}")
        else:
            warn(f"warning: {file} lines {first_line}-{skipped[-1][0]}: skipped {len(skipped)} lines that are "
                 f"not JSON, starting with {first_text!r}")
        skipped.clear()

    while True:
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos >= n:
            report_skipped()
            return
        line = lines.at(pos)
        if text[pos] not in "{[" and warn is not None:
            eol = text.find("\n", pos)
            eol = n if eol < 0 else eol
            skipped.append((line, text[pos:eol][:80]))
            pos = eol
            continue
        report_skipped()
        index += 1
        try:
            value, end = decode_json_value(text, pos)
        except json.JSONDecodeError as e:
            err_line = base_line + line_of(text, e.pos) - 1
            col = e.pos - (text.rfind("\n", 0, e.pos) + 1) + 1
            raise _invalid(file, index, err_line, col, "JSON", e.msg) from e
        except JsonTooDeepError as e:
            raise _invalid(file, index, line, None, "JSON", e) from e
        index_of = _json_lines(text[pos:end], base_line=line) if index_lines else LineIndex({}, root_line=line)
        yield Document(value, file, index, line, index_of)
        pos = end


def _json_lines(chunk: str, *, base_line: int) -> LineIndex:
    """Index a JSON value's lines by composing it as YAML (JSON is YAML's flow style). PyYAML
    rejects a few valid JSON texts (tab indentation); those keep the document's first line."""
    try:
        node = yaml.compose(chunk, Loader=KubeYamlLoader)
    except yaml.YAMLError:
        return LineIndex({}, root_line=base_line)
    if node is None:
        return LineIndex({}, root_line=base_line)
    return LineIndex.from_node(node, base_line=base_line)


def iter_yaml_documents(text: str, *, file: str, base_line: int = 1, index_lines: bool = False) -> Iterator[Document]:
    """Every non-empty YAML document in `text` (`---`-separated); an unparseable one is an InputError."""
    loader = KubeYamlLoader(text)
    index = 0
    try:
        while True:
            index += 1  # before check_node: scanning the next document's first tokens can fail too
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
                if node is None:
                    continue
                value = loader.construct_document(node)
            except yaml.MarkedYAMLError as e:
                mark = e.problem_mark or e.context_mark
                problem = e.problem or e.context or "unparseable"
                if mark is None:
                    raise InputError(f"{file} document {index}: invalid YAML: {_one_line(problem)}") from e
                raise _invalid(file, index, base_line + mark.line, mark.column + 1, "YAML", problem) from e
            except yaml.YAMLError as e:
                raise InputError(f"{file} document {index}: invalid YAML: {_one_line(e)}") from e
            except RecursionError as e:  # only the pure-Python composer recurses; libyaml stops at 1000 levels
                raise InputError(f"{file} document {index}: invalid YAML: nested too deeply") from e
            if value is None:
                continue  # an empty document (a trailing `---`)
            line = base_line + node.start_mark.line
            index_of = LineIndex.from_node(node, base_line=base_line) if index_lines else LineIndex({}, root_line=line)
            yield Document(value, file, index, line, index_of)
    finally:
        loader.dispose()


def iter_documents(
    text: str,
    *,
    file: str,
    warn: Warn | None,
    base_line: int = 1,
    first_index: int = 1,
    index_lines: bool = False,
) -> Iterator[Document]:
    """JSON values or YAML documents, whichever the text holds.

    `warn` receives the lines skipped between JSON values (None: they are errors); `base_line` and
    `first_index` place a part of a larger stream; `index_lines` records the line of every field.
    """
    if is_json(text):
        yield from iter_json_values(text, file=file, warn=warn, base_line=base_line, first_index=first_index,
                                    index_lines=index_lines)
    else:
        yield from iter_yaml_documents(text, file=file, base_line=base_line, index_lines=index_lines)


@dataclass(frozen=True, slots=True)
class Item:
    """One object found in a document: its kind (possibly inferred), the raw mapping, and where."""

    kind: str
    raw: Any
    where: str
    path: FieldPath = ()
    """Its path in the document: (), ("items", i) in a list, (i,) in a bare JSON array."""


def type_name(value: Any) -> str:
    """`a string`, `a list`, ...: what a message says was found instead of an object."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def iter_objects(doc: Document, *, strict: bool = False) -> Iterator[Item]:
    """The objects of one document: the document itself, or the items of a (typed) list.

    Kinds this package does not read (Deployment, ServiceList, ...) are yielded too; the caller
    decides whether they are an error (`-f`) or expected noise (a cluster-info dump). `strict`
    (preflight, which checks what is about to be applied) refuses a bare array and a list item that
    is not an object; otherwise they are yielded with an empty kind for the caller to warn about.
    """
    value = doc.value
    if isinstance(value, list) and not strict:  # a bare JSON array of objects
        for i, item in enumerate(value):
            yield Item(kind_of(item) if isinstance(item, Mapping) else "", item, f"{doc.where} [{i}]", (i,))
        return
    if not isinstance(value, Mapping):
        raise InputError(
            f"{doc.where}: expected a Kubernetes object (a mapping with apiVersion and kind), got {type_name(value)}"
        )
    kind = kind_of(value)
    if kind in LIST_KINDS or (kind.endswith("List") and "items" in value):
        items = value.get("items")
        if items is None:
            return  # an empty list prints `items: null` in some clients
        if not isinstance(items, list):
            raise InputError(f"{doc.where}: {kind}.items should be a list, got {type_name(items)}")
        item_kind = LIST_KINDS.get(kind, kind.removesuffix("List"))
        for i, item in enumerate(items):
            where = f"{doc.where} items[{i}]"
            if not isinstance(item, Mapping):
                if strict:
                    raise InputError(f"{doc.where}: {kind}.items[{i}] should be a Kubernetes object, "
                                     f"got {type_name(item)}")
                yield Item("", item, where, ("items", i))
                continue
            yield Item(kind_of(item, default=item_kind), item, where, ("items", i))
        return
    yield Item(kind, value, doc.where)


__all__ = [
    "MAX_ALIAS_EXPANSION",
    "OBJECT_KINDS",
    "AliasBombError",
    "Document",
    "FieldPath",
    "Item",
    "JsonTooDeepError",
    "KubeYamlLoader",
    "LineCounter",
    "LineIndex",
    "PathPart",
    "check_alias_expansion",
    "decode_bytes",
    "decode_json_value",
    "document_where",
    "is_json",
    "iter_documents",
    "iter_json_values",
    "iter_objects",
    "iter_yaml_documents",
    "line_of",
    "type_name",
]
