"""Read `kubectl cluster-info dump` output: an `--output-directory` tree or the single stream.

What kubectl writes (staging/src/k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go):
- `nodes.json`, then per namespace `events.json`, `replication-controllers.json`, `services.json`,
  `daemonsets.json`, `deployments.json`, `replicasets.json`, `pods.json` (`.yaml` with `-o yaml`),
  each a typed list whose items carry no `kind`;
- per pod `<ns>/<pod>/logs.txt`: for every init and regular container, a line
  `==== START logs for container C of pod NS/POD ====`, the container's *current* log, and
  `==== END logs for container C of pod NS/POD ====`. kubectl writes the END marker straight after
  the log bytes, so a log without a trailing newline ends mid-line; when the log request fails the
  body is one `Request log error: ...` / `Create log request error: ...` line instead.
- Without `--output-directory` all of that goes to stdout in the same order: JSON (or YAML with
  `---` separators) values one after another, each namespace's log sections after its pods.

Pods, Events, Nodes and Services (for dependency chains) are read; the other lists are expected
and ignored.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crashloop_exporter.errors import InputError
from crashloop_exporter.inputs.documents import LineCounter, decode_bytes, iter_documents, iter_objects
from crashloop_exporter.inputs.snapshot import OBJECT_KINDS, SnapshotBuilder, Warn
from crashloop_exporter.model import PodRecord

_START = re.compile(
    r"^==== START logs for container (?P<container>\S+) of pod (?P<namespace>[^/\s]+)/(?P<pod>\S+) ====[ \t\r]*$",
    re.M,
)
_NEXT_START = re.compile(r"^==== START logs for container \S+ of pod [^/\s]+/\S+ ====", re.M)
LOG_REQUEST_ERRORS = ("Request log error: ", "Create log request error: ")
"""What kubectl writes in place of a log when the request fails (e.g. container never started)."""

_OBJECT_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LogSection:
    """One container's log block from a dump."""

    namespace: str
    pod: str
    container: str
    text: str
    """The log body, without the START/END marker lines."""
    line: int
    """Line of the START marker, for messages."""

    @property
    def is_request_error(self) -> bool:
        """True when kubectl could not fetch the log and wrote its error instead."""
        body = self.text.strip()
        return "\n" not in body and body.startswith(LOG_REQUEST_ERRORS)


@dataclass(frozen=True, slots=True)
class ObjectText:
    """A run of text between log sections: JSON or YAML objects."""

    text: str
    line: int
    """Line of `text`'s first character in the whole input."""


def end_marker(section_container: str, namespace: str, pod: str) -> str:
    return f"==== END logs for container {section_container} of pod {namespace}/{pod} ===="


def split_dump_stream(text: str, *, where: str, warn: Warn) -> Iterator[ObjectText | LogSection]:
    """Split a dump into object text and log sections, in order.

    A START marker only counts at the start of a line (JSON and YAML never put one there), and a
    section ends at the first END marker naming the *same* container, pod and namespace that is
    followed by a newline or the end of input, so a log that prints a marker-like line for another
    pod stays inside its own section. A section with no END (a dump cut short) runs to the next
    START marker or the end of input, with a warning.
    """
    pos, n = 0, len(text)
    lines = LineCounter(text)
    while pos < n:
        m = _START.search(text, pos)
        if m is None:
            if text[pos:].strip():
                yield ObjectText(text[pos:], lines.at(pos))
            return
        if text[pos : m.start()].strip():
            yield ObjectText(text[pos : m.start()], lines.at(pos))
        container, namespace, pod = m.group("container"), m.group("namespace"), m.group("pod")
        start_line = lines.at(m.start())
        body_start = m.end() + 1 if m.end() < n else n
        marker = end_marker(container, namespace, pod)
        search = body_start
        end = -1
        while True:
            end = text.find(marker, search)
            if end < 0:
                break
            after = end + len(marker)
            if after >= n or text.startswith(("\n", "\r\n"), after):
                break
            search = end + 1
        if end < 0:
            nxt = _NEXT_START.search(text, body_start)
            stop = nxt.start() if nxt else n
            warn(
                f"warning: {where} line {start_line}: no END marker for container {container} of pod "
                f"{namespace}/{pod}; reading its log up to line {lines.at(stop)}"
            )
            yield LogSection(namespace, pod, container, text[body_start:stop], start_line)
            pos = stop
            continue
        yield LogSection(namespace, pod, container, text[body_start:end], start_line)
        eol = text.find("\n", end)
        pos = n if eol < 0 else eol + 1


def parse_log_sections(text: str, *, where: str, warn: Warn) -> list[LogSection]:
    """The log sections of a `logs.txt`; stray text outside sections is reported and ignored."""
    sections: list[LogSection] = []
    for part in split_dump_stream(text, where=where, warn=warn):
        if isinstance(part, LogSection):
            sections.append(part)
        else:
            first = part.text.strip().splitlines()[0]
            warn(f"warning: {where} line {part.line}: skipped text outside any log section: {first[:80]!r}")
    return sections


class DumpReader:
    """Feeds one dump (directory or stream) into a SnapshotBuilder."""

    def __init__(self, builder: SnapshotBuilder) -> None:
        self.builder = builder
        self.sections: list[LogSection] = []
        self.objects = 0

    def _add_object_text(self, text: str, *, where: str, base_line: int = 1, first_index: int = 1) -> int:
        """Read one run of objects; returns the index of the last value read (first_index - 1 if none)."""
        last = first_index - 1
        for doc in iter_documents(text, file=where, warn=self.builder.warn, base_line=base_line,
                                  first_index=first_index):
            last = doc.index
            try:
                items = list(iter_objects(doc))
            except InputError as e:
                # One odd value in a dump (not a list, not an object) is not worth abandoning the rest.
                self.builder.warn(f"warning: {e}; skipped")
                continue
            for item in items:
                self.objects += 1
                if item.kind in OBJECT_KINDS:
                    self.builder.add(item.kind, item.raw, where=item.where)
                elif not item.kind:
                    self.builder.warn(f"warning: {item.where}: skipped an item without a kind")
        return last

    def read_stream(self, text: str, *, where: str) -> None:
        values = 0  # JSON values are numbered across the whole stream, not per run between log sections
        for part in split_dump_stream(text, where=where, warn=self.builder.warn):
            if isinstance(part, LogSection):
                self.sections.append(part)
            else:
                values = self._add_object_text(part.text, where=where, base_line=part.line, first_index=values + 1)
        if not self.objects and not self.sections:
            raise InputError(
                f"{where}: no Kubernetes objects found; expected the output of `kubectl cluster-info dump`"
            )

    def read_directory(self, root: Path) -> None:
        def object_file(directory: Path, stem: str) -> Path | None:
            for suffix in _OBJECT_SUFFIXES:
                candidate = directory / (stem + suffix)
                if candidate.is_file():
                    return candidate
            return None

        nodes = object_file(root, "nodes")
        namespaces = sorted(
            d for d in root.iterdir() if d.is_dir() and (object_file(d, "pods") or object_file(d, "events"))
        )
        if nodes is None and not namespaces:
            raise InputError(
                f"--dump {root}: not a `kubectl cluster-info dump --output-directory` directory "
                "(expected nodes.json and <namespace>/pods.json)"
            )
        if nodes is None:
            self.builder.warn(f"note: --dump {root}: no nodes.json, so node pressure cannot be checked")
        else:
            self._read_object_file(nodes)
        for ns_dir in namespaces:
            for stem in ("pods", "events", "services", "endpointslices"):
                path = object_file(ns_dir, stem)
                if path is not None:
                    self._read_object_file(path)
            for pod_dir in sorted(d for d in ns_dir.iterdir() if d.is_dir()):
                logs = pod_dir / "logs.txt"
                if logs.is_file():
                    text = decode_bytes(_read(logs))
                    self.sections.extend(parse_log_sections(text, where=str(logs), warn=self.builder.warn))

    def _read_object_file(self, path: Path) -> None:
        text = decode_bytes(_read(path))
        self._add_object_text(text, where=str(path))

    def attach_logs(self) -> None:
        """Hand the builder the logs that explain a crash.

        kubectl dumps *current* logs. For a container that is not running (waiting in
        CrashLoopBackOff, or terminated) the kubelet serves its last run, which is exactly the
        crashed run `--previous` would return. A running container's current log belongs to the
        new run and says nothing about the last crash, so it is not used.
        """
        pods: dict[tuple[str, str], PodRecord] = {(p.namespace, p.name): p for p in self.builder.pods()}
        for s in self.sections:
            if s.is_request_error:
                continue
            pod = pods.get((s.namespace, s.pod))
            container = pod.container(s.container) if pod is not None else None
            if container is None or container.running_since is not None:
                continue
            self.builder.add_logs(namespace=s.namespace, pod=s.pod, container=s.container, text=s.text)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e


def load_dump(source: str, *, builder: SnapshotBuilder, stdin: BinaryIO | None = None) -> None:
    """Read a dump directory, a dump stream file, or `-` (stdin) into `builder`."""
    reader = DumpReader(builder)
    if source == "-":
        data = (stdin or sys.stdin.buffer).read()
        reader.read_stream(decode_bytes(data), where="<stdin>")
    else:
        path = Path(source)
        if path.is_dir():
            reader.read_directory(path)
        elif path.is_file():
            reader.read_stream(decode_bytes(_read(path)), where=str(path))
        elif path.exists():
            raise InputError(f"--dump {source}: not a directory or a regular file")
        else:
            raise InputError(
                f"--dump {source}: no such file or directory "
                "(expected `kubectl cluster-info dump` output: a --output-directory tree or its stdout)"
            )
    reader.attach_logs()


__all__ = [
    "LOG_REQUEST_ERRORS",
    "DumpReader",
    "LogSection",
    "ObjectText",
    "load_dump",
    "parse_log_sections",
    "split_dump_stream",
]
