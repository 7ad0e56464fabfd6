"""The project's own exceptions, in one place.

Third-party errors are chained (`raise ... from e`) into these so that callers catch one
family and the CLI can print one clear sentence instead of a traceback.
"""

from __future__ import annotations


class CrashloopError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(CrashloopError):
    """Bad user input: a flag, a rules file, a dump or manifest file. The message is one sentence
    naming the file, the field and what was expected; the CLI prints it and exits 2."""


class RulesFileError(InputError):
    """The `--rules-file` YAML is unreadable or does not validate."""


class MalformedObjectError(CrashloopError):
    """A Kubernetes object lacks a field we need or has the wrong type; it is skipped and counted."""


class ApiError(CrashloopError):
    """The Kubernetes API answered with an error status."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"HTTP {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class GoneError(ApiError):
    """410 Gone: the resourceVersion (or continue token) is older than etcd's compaction window,
    so the only way forward is a fresh LIST."""


class UnauthorizedError(ApiError):
    """401: credentials expired or were rotated; re-read them once, then back off."""


class ForbiddenError(ApiError):
    """403: RBAC does not grant this verb/resource (e.g. pods/log)."""


class WatchStalledError(CrashloopError):
    """No bytes arrived on a watch stream within the inactivity timeout (a silent hang)."""


class ConfigError(CrashloopError):
    """Kubernetes credentials could not be loaded (no kubeconfig, no in-cluster token)."""


class ThrottledError(ApiError):
    """429 Too Many Requests (API Priority and Fairness) or 503 Service Unavailable: the API
    server asks us to slow down; `retry_after` is its Retry-After hint in seconds, if it sent one."""

    def __init__(self, status: int, reason: str, message: str, *, retry_after: float | None) -> None:
        super().__init__(status, reason, message)
        self.retry_after = retry_after


class ApiConnectionError(CrashloopError):
    """The API server could not be reached or the connection broke before a response (refused,
    reset, TLS failure, connect timeout)."""


class ApiTimeoutError(ApiConnectionError):
    """The API server accepted the request but sent nothing (no headers, or no next byte) in time.
    For pods/log this usually means the apiserver cannot reach the pod's kubelet (port 10250)."""


class WatchDroppedError(CrashloopError):
    """A watch stream ended mid-event (connection reset, truncated chunked body, partial line):
    re-watch from the last complete event's resourceVersion."""


class ResponseDecodeError(CrashloopError):
    """A response body or watch line is not the JSON shape the API promises (or a watch line is
    larger than the line buffer): the state may be stale, so the watcher relists."""


class SimError(CrashloopError):
    """The Kubernetes API simulator (`crashloop_exporter.sim`) was misused: an unknown fault, a
    scenario file that does not validate, a pod that does not exist."""


class ScenarioError(SimError, InputError):
    """A scenario name or scenario file is unknown or invalid; the message names the file and field."""


class SimRequestError(SimError):
    """A request the simulated kube-apiserver refuses, as the real one would: carries the HTTP code
    and Status `reason` it answers with (`details`/`headers` go into the Status and response)."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"HTTP {code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}


class QueryError(CrashloopError):
    """A Prometheus HTTP API query failed (unreachable, HTTP error, or status "error"); raised by the
    dashboard preview renderer and query checks, with the expression in the message."""


class PreflightError(CrashloopError):
    """`preflight` could not finish its live checks (the API server is unreachable or answers with
    an error other than 404/403); the message names the object it was checking."""


class CatalogError(CrashloopError):
    """The cause catalog is inconsistent (a pattern that does not compile, a duplicate id): a
    programming error caught at import, named in one sentence."""
