"""kube.buffers: LIST bodies read into a few kept bytearrays, never one rewritten under a live view.

The risk this module takes is the one to pin: a Struct decoded from a body holds `msgspec.Raw`
views into it, so a buffer reused too early would change objects already handed on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import msgspec

from crashloop_exporter import wire
from crashloop_exporter.kube.buffers import POOL_SIZE, BodyBuffers
from crashloop_exporter.kube.client import KubeClient
from tests.exporter.podgen import pod

from .kubefake import FakeApi, page

PODS = "/api/v1/pods"


async def _chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_body_in_chunks_reads_whole_and_a_shorter_one_after_it_is_not_padded() -> None:
    """Chunks of any size make the body byte for byte; a reused, larger buffer gives a view of
    exactly the new body's length."""
    pool = BodyBuffers()
    long = await pool.read(_chunks([b"a" * 7, b"b" * 300_000, b"c"]))
    assert bytes(long) == b"a" * 7 + b"b" * 300_000 + b"c"
    base = long.obj
    del long
    short = await pool.read(_chunks([b"xy", b"z"]))
    assert bytes(short) == b"xyz"
    assert short.obj is base, "the buffer with no view left is the one reused"
    assert bytes(await pool.read(_chunks([]))) == b""


async def test_a_buffer_a_raw_still_points_into_is_never_rewritten() -> None:
    """A Struct decoded from one body keeps its Raw spec intact while later bodies are read, and
    the pool takes a fresh buffer for them; once the Struct is gone, that buffer is reused."""
    pool = BodyBuffers()
    first = await pool.read(_chunks([msgspec.json.encode(pod("first"))]))
    kept = msgspec.json.decode(first, type=wire.Pod)
    spec_before = bytes(kept.spec)
    first_buffer = first.obj
    del first
    for name in ("second", "third-with-a-much-longer-name-so-the-body-differs"):
        other = await pool.read(_chunks([msgspec.json.encode(pod(name))]))
        assert other.obj is not first_buffer
        del other
    assert bytes(kept.spec) == spec_before and kept.metadata.name == "first"
    del kept
    again = await pool.read(_chunks([b"{}"]))
    assert again.obj is first_buffer, "released by the Struct, the buffer is taken again"


async def test_the_pool_keeps_at_most_its_size_and_clear_forgets_them() -> None:
    """Views held on more bodies than the pool keeps: each body still gets its own buffer, the
    pool keeps POOL_SIZE of them, and after clear() none is reused."""
    pool = BodyBuffers()
    views = [await pool.read(_chunks([bytes([i]) * 10])) for i in range(POOL_SIZE + 2)]
    assert [bytes(v) for v in views] == [bytes([i]) * 10 for i in range(POOL_SIZE + 2)]
    buffers = [v.obj for v in views]  # the bytearrays themselves: holding one is not a view
    assert all(a is not b for i, a in enumerate(buffers) for b in buffers[i + 1:])
    kept, unkept = buffers[:POOL_SIZE], buffers[POOL_SIZE:]
    views.clear()
    reused = await pool.read(_chunks([b"x"]))
    assert any(reused.obj is b for b in kept) and not any(reused.obj is b for b in unkept)
    del reused
    pool.clear()
    fresh = await pool.read(_chunks([b"y"]))
    assert not any(fresh.obj is b for b in buffers) and bytes(fresh) == b"y"


async def test_list_pages_read_into_buffers_keep_every_earlier_pages_objects(
    fake: FakeApi, client: KubeClient
) -> None:
    """Through real HTTP: pages read with one pool, the typed items of every page kept while the
    next pages are read, and each item still decodes to its own pod afterwards."""
    names = [f"pod-{i}" for i in range(POOL_SIZE * 3)]
    sent = [pod(n) for n in names]
    for i, p in enumerate(sent):
        p["spec"]["nodeName"] = f"node-{i}"  # the spec stays a Raw into the body: each one differs
    fake.script("list", PODS, *(page(str(100 + i), [p], cont=f"c{i}") for i, p in enumerate(sent)))
    pool = BodyBuffers()
    kept = []
    for i in range(len(names)):
        items, rv, cont = await client.list_page(PODS, params={"limit": 1}, typed=wire.PAGES["pods"], buffers=pool)
        assert (rv, cont) == (str(100 + i), f"c{i}")
        kept.extend(items)
    pods = [p for p in kept if isinstance(p, wire.Pod)]
    assert [p.metadata.name for p in pods] == names
    assert [msgspec.json.decode(p.spec) for p in pods] == [p["spec"] for p in sent]
