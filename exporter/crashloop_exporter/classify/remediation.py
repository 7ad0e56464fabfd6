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
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from string import Template

from crashloop_exporter.catalog import Cause
from crashloop_exporter.classify.redact import redact

ROLLOUT_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})

_PLACEHOLDERS: Mapping[str, str] = {
    "namespace": "<namespace>",
    "pod": "<pod>",
    "container": "<container>",
    "workload": "<workload>",
    "workload_ref": "deployment/<name>",
    "restart_cmd": "kubectl rollout restart deployment/<name> -n <namespace>",
    "secret": "<secret-name>",
    "key": "<key>",
    "configmap": "<configmap-name>",
    "env_var": "<ENV_VAR>",
    "image": "<image>",
    "memory_limit": "<none set>",
    "suggested_memory_limit": "1Gi",
    "suggested_memory_request": "512Mi",
    "node": "<node>",
    "resource": "the resource under pressure",
    "probe_path": "/health",
    "probe_port": "8080",
    "host": "<dependency-host>",
    "port": "<port>",
    "module": "<missing module>",
}

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
_PREBUILT = frozenset({"workload_ref", "restart_cmd"})
"""Facts that are command fragments built by `workload_facts` from values it quoted itself."""


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
    if value == _PLACEHOLDERS.get(field):
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


def _fill(template: str, values: Mapping[str, str]) -> str:
    """`Template.safe_substitute` that quotes each value for where it lands: bare, or inside the
    template's single or double quotes (closed around the quoted value and reopened)."""
    out: list[str] = []
    pos = 0
    for m in Template.pattern.finditer(template):
        out.append(template[pos : m.start()])
        pos = m.end()
        name = m.group("named") or m.group("braced")
        if m.group("escaped") is not None:
            out.append("$")
            continue
        if name is None or name not in values:
            out.append(m.group())
            continue
        raw = values[name]
        if name in _PREBUILT:
            out.append(raw)
            continue
        if name == "key" and KEY_SEPARATOR in raw:
            word = "=<value> --from-literal=".join(shell_value("key", k) for k in raw.split(KEY_SEPARATOR) if k)
        else:
            word = shell_value(name, raw)
        quote, comment = _quote_state(template[: m.start()])
        out.append(f"{quote}{word}{quote}" if quote and not comment and word != raw else word)
    out.append(template[pos:])
    return "".join(out)


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


def workload_facts(*, namespace: str, pod: str, workload_kind: str, workload: str) -> dict[str, str]:
    """`workload_ref` and `restart_cmd` for the owner kind, each name quoted as `shell_value` does."""
    ns, pod_word = shell_value("namespace", namespace), shell_value("pod", pod)
    kind = shell_value("workload_kind", workload_kind)
    if workload_kind == "Pod":
        ref = f"pod/{pod_word}"
    elif FIELD_SHAPES["workload_kind"].fullmatch(workload_kind) and FIELD_SHAPES["workload"].fullmatch(workload):
        ref = f"{workload_kind.lower()}/{workload}"
    else:
        ref = shlex.quote(_UNPRINTABLE.sub(_escape, f"{workload_kind.lower()}/{workload}"))
    if workload_kind in ROLLOUT_KINDS:
        restart = f"kubectl rollout restart {ref} -n {ns}"
    elif workload_kind == "Pod":
        restart = (
            f"kubectl get pod {pod_word} -n {ns} -o yaml | kubectl replace --force -f -   # bare pod: re-create it"
        )
    else:
        restart = f"kubectl delete pod {pod_word} -n {ns}   # its {kind} creates a new one"
    return {"workload_ref": ref, "restart_cmd": restart}


def render(cause: Cause, facts: Mapping[str, str], *, workload_kind: str) -> str:
    """The cause's remediation with `facts` substituted."""
    values = dict(_PLACEHOLDERS)
    values.update({k: v for k, v in facts.items() if v})
    text = _fill(cause.remediation, values)
    if workload_kind in ROLLOUT_KINDS:
        return text
    kind = shell_value("workload_kind", workload_kind)
    workload = shell_value("workload", facts.get("workload", "")) if facts.get("workload") else ""
    lines = []
    # split("\n"), not splitlines(): only the template's own newlines end a line.
    for line in text.split("\n"):
        if line.startswith("kubectl rollout"):
            lines.append(
                f"# {kind} {workload} has no rollout history: fix the spec, re-apply it"
                + ("" if workload_kind == "Pod" else f" and let the {kind} create new pods")
            )
        else:
            lines.append(line)
    return "\n".join(dict.fromkeys(lines))
