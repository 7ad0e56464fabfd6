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
