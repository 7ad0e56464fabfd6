"""The exporter's Kubernetes API layer: credentials, an aiohttp client, list+watch, previous logs.

Everything that talks to the API server lives here, so the classifier and the collector stay pure.
"""

from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.kube.config import Credentials, load_credentials
from crashloop_exporter.kube.logs import LogFetcher, LogResult
from crashloop_exporter.kube.stats import WatchStats, WatchStatsSnapshot
from crashloop_exporter.kube.watch import Backoff, Watcher, WatchHandler, WatchTarget, watch_targets, watchers_for

__all__ = [
    "Backoff",
    "Credentials",
    "KubeClient",
    "LogFetcher",
    "LogResult",
    "WatchHandler",
    "WatchStats",
    "WatchStatsSnapshot",
    "WatchTarget",
    "Watcher",
    "load_credentials",
    "watch_targets",
    "watchers_for",
]
