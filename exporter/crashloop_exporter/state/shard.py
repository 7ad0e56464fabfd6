"""Which shard owns an object: FNV-1a (32 bit) of its UID modulo the shard count.

The same hash kube-state-metrics uses for its sharding, so one mental model covers both.
"""

from __future__ import annotations

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv32a(data: str) -> int:
    h = _FNV_OFFSET
    for byte in data.encode():
        h ^= byte
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
    return h


def owns(uid: str, *, shard: int, total_shards: int) -> bool:
    """True when this shard tracks the object with `uid` (always True without sharding)."""
    if total_shards <= 1:
        return True
    return fnv32a(uid) % total_shards == shard
