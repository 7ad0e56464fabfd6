"""Helpers of the kube layer's tests: kubeconfig writer, bounded waits, a recording handler."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec
import yaml

from crashloop_exporter.kube.client import WatchObject
from crashloop_exporter.kube.watch import Watcher

WAIT = 5.0
"""Upper bound of every wait in these tests."""


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    user: dict[str, Any] | None = None,
    cluster: dict[str, Any] | None = None,
    contexts: dict[str, tuple[str, dict[str, Any]]] | None = None,
    current: str = "fake",
) -> Path:
    """A kubeconfig with one context "fake" (or `contexts`: name -> (server, user dict))."""
    contexts = contexts or {"fake": (server, user if user is not None else {"token": "t0"})}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": s, **(cluster or {})}} for n, (s, _) in contexts.items()],
        "users": [{"name": n, "user": u} for n, (_, u) in contexts.items()],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in contexts],
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(doc))
    return path


EXEC_PLUGIN = """\
import json, pathlib, sys
counter = pathlib.Path(sys.argv[1])
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"token": f"exec-token-{n}"}}))
"""


def exec_user(tmp_path: Path, *, script: str = EXEC_PLUGIN) -> dict[str, object]:
    """A kubeconfig user whose token comes from an exec plugin (`script`, run by this Python)."""
    plugin = tmp_path / "plugin.py"
    plugin.write_text(script)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
                     "args": [str(plugin), str(tmp_path / "counter")]}}


async def wait_until(predicate: Callable[[], bool], *, what: str, timeout: float = WAIT) -> None:
    """Poll until `predicate()` holds; fail the test after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)
    assert predicate(), what


@contextlib.asynccontextmanager
async def running(coro: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run a forever-coroutine in a task for the duration of the block, then cancel it."""
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


class RecordingSleep:
    """Injected as the watcher's sleep: records each requested delay and only yields."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0.001)


def _as_dict(raw: WatchObject) -> dict[str, Any]:
    """The watcher hands over each object as a `wire` Struct (pods, events, nodes) or its JSON bytes;
    this recorder keeps them as dicts (a Struct's: the fields the exporter reads)."""
    assert isinstance(raw, msgspec.Raw | msgspec.Struct), f"unexpected {type(raw).__name__}"
    obj = msgspec.json.decode(raw if isinstance(raw, msgspec.Raw) else msgspec.json.encode(raw))
    assert isinstance(obj, dict)
    return obj


class Recorder:
    """A WatchHandler that keeps a store like the real one would and records every call."""

    def __init__(self, timeline: list[str] | None = None, fail_on: str | None = None) -> None:
        self.store: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, ...]] = []
        self.events: list[tuple[str, str, str]] = []
        self.timeline = timeline if timeline is not None else []
        self.fail_on = fail_on
        self._seen: set[str] | None = None

    @staticmethod
    def _key(obj: dict[str, Any]) -> str:
        meta = obj["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}"

    async def relist_begin(self, resource: str, *, namespace: str | None) -> None:
        self.calls.append(("relist_begin", resource, str(namespace)))
        self._seen = set()

    async def relist_item(self, resource: str, raw: WatchObject) -> None:
        obj = _as_dict(raw)
        key = self._key(obj)
        self.calls.append(("relist_item", resource, key))
        self.timeline.append(f"item {key}")
        if self.fail_on and obj["metadata"]["name"] == self.fail_on:
            raise ValueError("handler bug on purpose")
        assert self._seen is not None
        self._seen.add(key)
        self.store[key] = obj

    async def relist_end(self, resource: str, *, namespace: str | None) -> None:
        self.calls.append(("relist_end", resource, str(namespace)))
        assert self._seen is not None
        for key in [k for k in self.store if k not in self._seen]:
            del self.store[key]
        self._seen = None

    async def event(self, resource: str, event_type: str, raw: WatchObject) -> None:
        obj = _as_dict(raw)
        key = self._key(obj)
        self.calls.append(("event", resource, event_type, key))
        if self.fail_on and obj["metadata"]["name"] == self.fail_on:
            raise ValueError("handler bug on purpose")
        self.events.append((event_type, key, obj["metadata"]["resourceVersion"]))
        if event_type == "DELETED":
            self.store.pop(key, None)
        else:
            self.store[key] = obj

    def count(self, name: str) -> int:
        return sum(1 for c in self.calls if c[0] == name)




MakeWatcher = Callable[..., Watcher]
"""Type of the make_watcher fixture."""
