"""Fixtures for the simulator's tests: a running sim over real HTTP and a client that speaks to it.

Most tests pause the lifecycle clock and step it with `SimCluster.advance`, so what they assert
follows from the kubelet rules, not from how fast this machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest

from crashloop_exporter.sim import SimCluster, SimServer
from crashloop_exporter.sim.scenarios import Scenario

TOKEN = "sim-token"


@dataclass
class Sim:
    cluster: SimCluster
    server: SimServer
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        async with self.http.get(self.url + path, params=params) as r:
            body = await r.read()
            ctype = r.headers.get("Content-Type", "")
            return r.status, orjson.loads(body) if ctype.startswith("application/json") else body.decode()

    async def list_all(self, path: str, *, limit: int, **params: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Every item of a paginated LIST, and the resourceVersion each page reported."""
        items: list[dict[str, Any]] = []
        rvs: list[str] = []
        token = ""
        for _ in range(10_000):
            query = {"limit": str(limit), **params}
            if token:
                query["continue"] = token
            status, page = await self.get(path, **query)
            assert status == 200, page
            items.extend(page["items"])
            rvs.append(page["metadata"]["resourceVersion"])
            token = page["metadata"].get("continue", "")
            if not token:
                return items, rvs
        raise AssertionError("pagination did not end")


async def read_events(resp: aiohttp.ClientResponse, *, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The next `count` watch events (fewer if the stream ends first)."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(events) < count:
            line = await resp.content.readline()
            if not line:
                break
            events.append(orjson.loads(line))
    return events


MakeSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def make_sim() -> AsyncIterator[MakeSim]:
    """Start sims on random free ports; every one is stopped when the test ends."""
    started: list[Sim] = []

    async def make(scenarios: Sequence[str | Scenario] | None = None, *, paused: bool = True,
                   time_scale: float = 1.0, token: str | None = TOKEN, tls: bool = False,
                   bookmark_interval: float = 60.0, **cluster_kw: Any) -> Sim:
        cluster = SimCluster(scenarios, time_scale=time_scale, **cluster_kw)
        if paused:
            cluster.pause()
        server = SimServer(cluster, token=token, tls=tls, bookmark_interval=bookmark_interval)
        await server.start()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=False))
        sim = Sim(cluster, server, http)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.http.close()
        await sim.server.stop()


@pytest.fixture
async def sim(make_sim: MakeSim) -> Sim:
    """All scenarios, clock paused at zero (nothing has started yet)."""
    return await make_sim()
