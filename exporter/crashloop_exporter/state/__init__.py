"""In-memory state of the exporter: compact pod records, findings, and crash counters.

Watch events update it; scrapes and `/causes` only read it ("compute on watch, serve from memory").
"""

from crashloop_exporter.state.cluster import ClusterState, LogRequest
from crashloop_exporter.state.counter import CrashCounter, CrashKey

__all__ = ["ClusterState", "CrashCounter", "CrashKey", "LogRequest"]
