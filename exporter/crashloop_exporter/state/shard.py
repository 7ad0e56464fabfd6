"""Which shard owns an object: kube-state-metrics' own rule, so a pod lands on the same shard index.

kube-state-metrics (`pkg/sharding/listwatch.go`) hashes the bytes of `metadata.uid` with FNV-1a
64-bit, then picks the shard with jump consistent hash (Lamping & Veach 2014, the `go-jump`
package). Using the same rule means `--shard N --total-shards M` here and there own the same pods,
and jump hash (unlike `hash % M`) moves only about 1/M of the pods when the shard count changes
from M-1 to M, so a resharded StatefulSet relists and rebaselines as few pods as possible.
"""

from __future__ import annotations

_MASK64 = 0xFFFFFFFFFFFFFFFF
_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_JUMP_LCG = 2862933555777941757
"""The 64-bit linear congruential step of the paper (and of go-jump)."""


def fnv64a(data: bytes) -> int:
    """FNV-1a 64-bit of `data` (Go's `hash/fnv.New64a`)."""
    h = _FNV64_OFFSET
    for byte in data:
        h ^= byte
        h = (h * _FNV64_PRIME) & _MASK64
    return h


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash of a 64-bit `key` into `range(buckets)`.

    The float arithmetic is deliberate: go-jump computes `j` in float64 exactly like this, and
    Python floats are IEEE doubles, so the result matches bit for bit.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * _JUMP_LCG + 1) & _MASK64
        j = int(float(b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


def shard_of(uid: str, *, total_shards: int) -> int:
    """The shard index kube-state-metrics gives the object with `uid`."""
    return jump_hash(fnv64a(uid.encode()), total_shards)


def owns(uid: str, *, shard: int, total_shards: int) -> bool:
    """True when this shard tracks the object with `uid` (always True without sharding)."""
    if total_shards <= 1:
        return True
    return shard_of(uid, total_shards=total_shards) == shard
