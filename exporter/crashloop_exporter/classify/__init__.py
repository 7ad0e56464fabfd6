"""The pure classification core: records in, findings out.

Imports nothing from aiohttp or the Kubernetes client; the watch layer and `diagnose` feed it.
"""

from crashloop_exporter.catalog import FAILING_WAITING
from crashloop_exporter.classify.engine import (
    PodContext,
    classify,
    classify_container,
    needs_logs,
    pod_context,
)
from crashloop_exporter.classify.redact import clean, redact
from crashloop_exporter.classify.user_rules import DEFAULT_RULES, LogRules, rules_from_data

__all__ = [
    "DEFAULT_RULES",
    "FAILING_WAITING",
    "LogRules",
    "PodContext",
    "classify",
    "classify_container",
    "clean",
    "needs_logs",
    "pod_context",
    "redact",
    "rules_from_data",
]
