"""Fill a cause's remediation template with the names this finding's evidence found.

The catalog writes fixes as `string.Template`s; here they get the real secret name, key, namespace
and workload. Names we could not learn stay as readable `<secret-name>` placeholders rather than
empty strings, so a command is never silently wrong. `kubectl rollout ...` only exists for
Deployments, StatefulSets and DaemonSets, so for other owners those lines become a note.

The names come from the pod, its events and its log, and `diagnose` reads them from dumps and
`-f` files a user (or an attacker) wrote: a pod named `x\\nkubectl delete namespace production`
must not print that second line as a command to copy. So each value is checked against the
shape Kubernetes allows for its field (`FIELD_SHAPES`: DNS-1123 labels and subdomains, config
keys, env var names) and used as is when it fits; anything else is quoted for the shell
(`shlex.quote`, closing and reopening the template's own quotes around it) with control
characters written as visible escapes, so no value can end a line, a quote or a command.

The same templates become alert descriptions (`rulegen.templates`), where the names are Go-template
label references and the owner kind is only known when Prometheus renders. So `render_template`
is the one renderer, and a `ValueSource` says how a name becomes text (a fact quoted for the shell,
or `{{ $labels.namespace }}`) and how a line that depends on the owner kind is chosen (now, or by a
Go `if`). Unknown names, the restart command and the no-rollout note are spelled here once.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from typing import Protocol

from crashloop_exporter.catalog import Cause
from crashloop_exporter.classify.redact import redact

ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
"""Owner kinds `kubectl rollout` works on; for others a rollout line becomes a note."""

PLACEHOLDERS: Mapping[str, str] = {
    "namespace": "<namespace>",
    "pod": "<pod>",
    "container": "<container>",
    "workload": "<workload>",
    "workload_kind": "<workload-kind>",
    "workload_ref": "deployment/<name>",
    "secret": "<secret-name>",
    "key": "<key>",
    "configmap": "<configmap-name>",
    "env_var": "<ENV_VAR>",
    "image": "<image>",
    "memory_limit": "<current-limit>",
    "suggested_memory_limit": "<new-limit>",
    "suggested_memory_request": "<new-request>",
    "node": "<node>",
    "resource": "<resource>",
    "probe_path": "<probe-path>",
    "probe_port": "<probe-port>",
    "host": "<dependency-host>",
    "port": "<port>",
    "module": "<missing-module>",
}
"""What a command shows for a name its value source does not know: the alert for names only the
evidence holds (the secret, the key), a finding whose evidence did not name them. One table for
both, so `diagnose`, `/causes`, the runbook page and the alerts read the same."""


def placeholder(name: str) -> str:
    """The readable stand-in for a template name the value source cannot fill."""
    return PLACEHOLDERS.get(name, "<" + name.replace("_", "-") + ">")


KEY_SEPARATOR = "\x00"
"""Joins several keys in one `key` fact: `--from-literal=${key}=<value>` then gets one flag per key.
NUL never occurs in a Kubernetes key, and a NUL inside a hostile key only splits it further."""

_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"(?=.{{1,253}}$){_DNS_LABEL}(?:\.{_DNS_LABEL})*")
FIELD_SHAPES: Mapping[str, re.Pattern[str]] = {
    "namespace": re.compile(_DNS_LABEL),  # DNS-1123 label (apimachinery ValidateNamespaceName)
    "container": re.compile(_DNS_LABEL),  # DNS-1123 label (ValidateContainer)
    "pod": _DNS_SUBDOMAIN,  # DNS-1123 subdomain (ValidatePodName)
    "workload": _DNS_SUBDOMAIN,
    "node": _DNS_SUBDOMAIN,
    "secret": _DNS_SUBDOMAIN,
    "configmap": _DNS_SUBDOMAIN,
    "key": re.compile(r"[-._a-zA-Z0-9]{1,253}"),  # IsConfigMapKey
    "env_var": re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*"),  # IsEnvVarName
    "workload_kind": re.compile(r"[A-Z][A-Za-z0-9]{0,62}"),
    "probe_port": re.compile(r"[0-9]{1,5}|[a-z0-9](?:[-a-z0-9]{0,13}[a-z0-9])?"),  # port or IANA_SVC_NAME
    "port": re.compile(r"[0-9]{1,5}|[a-z0-9](?:[-a-z0-9]{0,13}[a-z0-9])?"),
    "probe_path": re.compile(r"/[A-Za-z0-9._~/%:@+,=-]*"),
    "memory_limit": re.compile(r"[0-9][0-9.]*(?:[KMGTPE]i?|[kmnu]|e[0-9]+)?"),
    "suggested_memory_limit": re.compile(r"[0-9][0-9.]*(?:[KMGTPE]i?|[kmnu]|e[0-9]+)?"),
    "suggested_memory_request": re.compile(r"[0-9][0-9.]*(?:[KMGTPE]i?|[kmnu]|e[0-9]+)?"),
}
"""The shape Kubernetes allows for each name put into a command; a value of that shape needs no
quoting. Other fields (image, host, module, resource) must be plain shell-safe words."""
_SHELL_WORD = re.compile(r"[A-Za-z0-9._/:=@%+,-]+")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def shell_value(field: str, value: str) -> str:
    """`value` as one shell word for `field`: unchanged when it has the field's Kubernetes shape
    (or is our own `<placeholder>`), otherwise shell-quoted, with credentials masked and control
    characters written as visible escapes (`\\n`), so it can never start a new line or command."""
    if value == placeholder(field):
        return value
    shape = FIELD_SHAPES.get(field, _SHELL_WORD)
    if shape.fullmatch(value):
        return value
    return shlex.quote(_UNPRINTABLE.sub(_escape, redact(value)))


def _quote_state(text: str) -> tuple[str, bool]:
    """The quote (`'`, `"` or "") open at the end of `text`, a template line prefix, and whether a
    shell comment has started there."""
    quote, comment, prev = "", False, "\n"
    for ch in text:
        if ch == "\n":
            quote, comment = "", False
        elif comment:
            pass
        elif quote:
            if ch == quote and not (quote == '"' and prev == "\\"):
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and prev in " \t\n":
            comment = True
        prev = ch
    return quote, comment


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]i?|[kMGT]|e\d+)?$")
_FACTORS: dict[str | None, float] = {
    None: 1,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def memory_bytes(quantity: str) -> float | None:
    """Kubernetes memory quantity (`512Mi`, `1G`, `1073741824`) to bytes; None if unparseable."""
    m = _QUANTITY.match(quantity.strip())
    if not m:
        return None
    value, suffix = float(m.group(1)), m.group(2)
    if suffix and suffix.startswith("e"):
        return value * 10.0 ** int(suffix[1:])
    return value * float(_FACTORS.get(suffix, 1))


def format_mebibytes(n_bytes: float) -> str:
    """Bytes as a round Mi/Gi quantity a human would type."""
    mib = n_bytes / 2**20
    if mib >= 1024 and mib % 1024 == 0:
        return f"{int(mib // 1024)}Gi"
    return f"{int(-(-mib // 64) * 64)}Mi"  # round up to 64Mi steps


def suggest_memory(limit: str, request: str) -> tuple[str, str]:
    """(new limit, new request): double the current limit (the seed's 512Mi -> 1Gi), request half of it."""
    current = memory_bytes(limit) if limit else None
    if not current:
        return "1Gi", request or "512Mi"
    new_limit = current * 2
    return format_mebibytes(new_limit), format_mebibytes(max(new_limit / 2, memory_bytes(request) or 0))


class ValueSource(Protocol):
    """How `render_template` turns the template's names and kind-dependent lines into text."""

    def literal(self, text: str) -> str:
        """Template text between names, made inert for where the result goes."""
        ...

    def value(self, name: str, *, quote: str) -> str | None:
        """The text for `${name}` inside the template quote `quote` ("", `'` or `"`), or None when
        this source does not know it (the renderer then shows `placeholder(name)`)."""
        ...

    def by_kind(self, *, rollout: str, pod: str, other: str) -> str:
        """`rollout` for a Deployment, StatefulSet or DaemonSet, `pod` for a bare Pod, `other` for
        any other owner (Job, ReplicaSet, ...)."""
        ...


def _word(source: ValueSource, name: str) -> str:
    return source.value(name, quote="") or placeholder(name)


def _restart_command(source: ValueSource) -> str:
    """`${restart_cmd}`: how to get new pods, by owner kind."""
    ns, pod, kind = _word(source, "namespace"), _word(source, "pod"), _word(source, "workload_kind")
    return source.by_kind(
        rollout=f"kubectl rollout restart {_word(source, 'workload_ref')} -n {ns}",
        pod=f"kubectl get pod {pod} -n {ns} -o yaml | kubectl replace --force -f -   # bare pod: re-create it",
        other=f"kubectl delete pod {pod} -n {ns}   # its {kind} creates a new one",
    )


def _no_rollout_note(source: ValueSource) -> tuple[str, str]:
    """(for a bare Pod, for another owner): what replaces `kubectl rollout`, which they do not have."""
    kind, workload = _word(source, "workload_kind"), _word(source, "workload")
    note = f"# {kind} {workload} has no rollout history: fix the spec, re-apply it"
    return note + "\n", f"{note} and let the {kind} create new pods\n"


def _fill_line(line: str, source: ValueSource) -> str:
    """One template line with each `${name}` replaced by the source's text for where it lands."""
    out: list[str] = []
    pos = 0
    for m in Template.pattern.finditer(line):
        out.append(source.literal(line[pos : m.start()]))
        pos = m.end()
        name = m.group("named") or m.group("braced")
        if m.group("escaped") is not None:
            out.append("$")
        elif name is None:
            out.append(source.literal(m.group()))
        elif name == "restart_cmd":
            out.append(_restart_command(source))
        else:
            quote, comment = _quote_state(line[: m.start()])
            word = source.value(name, quote="" if comment else quote)
            out.append(placeholder(name) if word is None else word)
    out.append(source.literal(line[pos:]))
    return "".join(out)


def render_template(template: str, source: ValueSource) -> str:
    """`template` filled from `source`, each line ending in a newline. `kubectl rollout` lines only
    work for rollout kinds: for other owners the first becomes a note and the rest are dropped."""
    out: list[str] = []
    noted = False
    # split("\n"), not splitlines(): only the template's own newlines end a line.
    for line in template.split("\n"):
        text = _fill_line(line, source) + "\n"
        if not line.startswith("kubectl rollout"):
            out.append(text)
        elif noted:
            out.append(source.by_kind(rollout=text, pod="", other=""))
        else:
            pod_note, other_note = _no_rollout_note(source)
            out.append(source.by_kind(rollout=text, pod=pod_note, other=other_note))
            noted = True
    return "".join(out)


@dataclass(frozen=True)
class FindingFacts:
    """Values from a finding's evidence, each quoted for the shell (`shell_value`), for a known owner kind."""

    facts: Mapping[str, str]
    workload_kind: str

    def literal(self, text: str) -> str:
        return text

    def _fact(self, name: str) -> str:
        return self.workload_kind if name == "workload_kind" else self.facts.get(name, "")

    def value(self, name: str, *, quote: str) -> str | None:
        if name == "workload_ref":
            return self._workload_ref()
        raw = self._fact(name)
        if not raw:
            return None
        if name == "key" and KEY_SEPARATOR in raw:
            word = "=<value> --from-literal=".join(shell_value("key", k) for k in raw.split(KEY_SEPARATOR) if k)
        else:
            word = shell_value(name, raw)
        # A quoted value closes the template's own quote around it and reopens it after.
        return f"{quote}{word}{quote}" if quote and word != raw else word

    def _workload_ref(self) -> str | None:
        """`kind/name` as kubectl takes it; a bare pod is `pod/<its name>`."""
        kind, workload = self.workload_kind, self._fact("workload")
        if kind == "Pod":
            return f"pod/{_word(self, 'pod')}"
        if not workload:
            return None
        if FIELD_SHAPES["workload_kind"].fullmatch(kind) and FIELD_SHAPES["workload"].fullmatch(workload):
            return f"{kind.lower()}/{workload}"
        return shlex.quote(_UNPRINTABLE.sub(_escape, f"{kind.lower()}/{workload}"))

    def by_kind(self, *, rollout: str, pod: str, other: str) -> str:
        if self.workload_kind in ROLLOUT_KINDS:
            return rollout
        return pod if self.workload_kind == "Pod" else other


def render(cause: Cause, facts: Mapping[str, str], *, workload_kind: str) -> str:
    """The cause's remediation with `facts` substituted, for an owner of kind `workload_kind`."""
    return render_template(cause.remediation, FindingFacts(facts, workload_kind)).removesuffix("\n")
