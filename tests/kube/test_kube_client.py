"""The aiohttp API client over real HTTP(S): typed errors, 401 re-auth, log caps, the line reader."""

from __future__ import annotations

import email.utils
import ssl
import time
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from crashloop_exporter.errors import (
    ApiConnectionError,
    ApiError,
    ForbiddenError,
    GoneError,
    ResponseDecodeError,
    ThrottledError,
    UnauthorizedError,
    WatchDroppedError,
    WatchStalledError,
)
from crashloop_exporter.kube.client import USER_AGENT, KubeClient, parse_retry_after
from crashloop_exporter.kube.config import load_credentials

from .helpers import WAIT, write_kubeconfig
from .kubefake import Drop, FakeApi, Hang, Pause, Reply, Stream, ev, obj, page, status

PODS = "/api/v1/pods"


async def test_requests_send_accept_json_and_user_agent(fake: FakeApi, client: KubeClient) -> None:
    """Every request asks for JSON, names the exporter and its version, and carries the bearer token."""
    fake.script("get", "/version", Reply(body={"gitVersion": "v1.31.0"}))
    assert await client.get_json("/version") == {"gitVersion": "v1.31.0"}
    headers = fake.seen("get")[0].headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("crashloop-exporter/")
    assert headers["Authorization"] == "Bearer t0"


async def test_list_page_returns_items_rv_and_continue(fake: FakeApi, client: KubeClient) -> None:
    """list_page yields each item's JSON bytes, the list resourceVersion and the continue token; null items is empty."""
    null_items = Reply(body={"metadata": {"resourceVersion": "43"}, "items": None})
    fake.script("list", PODS, page("42", [obj("a", "1")], cont="tok"), null_items)
    items, rv, cont = await client.list_page(PODS, params={"limit": 1})
    assert all(isinstance(i, msgspec.Raw) for i in items), "without a typed decoder, items stay bytes"
    assert ([msgspec.json.decode(i) for i in items if isinstance(i, msgspec.Raw)], rv, cont) == (
        [obj("a", "1")], "42", "tok")
    assert await client.list_page(PODS, params={"limit": 1, "continue": "tok"}) == ([], "43", None)
    assert fake.seen("list")[1].query == {"limit": "1", "continue": "tok"}


@pytest.mark.parametrize(
    ("code", "reason", "error_type"),
    [(403, "Forbidden", ForbiddenError), (410, "Expired", GoneError), (404, "NotFound", ApiError),
     (500, "InternalError", ApiError)],
    ids=["403-forbidden", "410-gone", "404-plain-api-error", "500-plain-api-error"],
)
async def test_http_errors_become_typed_exceptions_with_status_fields(
    fake: FakeApi, client: KubeClient, code: int, reason: str, error_type: type[ApiError]
) -> None:
    """An error status maps to its typed exception carrying the Status body's reason and message."""
    fake.script("get", "/api/v1/namespaces/x", Reply(code, status(code, reason, f"the {reason} message")))
    with pytest.raises(error_type) as info:
        await client.get_json("/api/v1/namespaces/x")
    assert type(info.value) is error_type
    assert info.value.status == code
    assert info.value.reason == reason
    assert f"the {reason} message" in info.value.message


async def test_throttling_carries_retry_after(fake: FakeApi, client: KubeClient) -> None:
    """429 and 503 become ThrottledError with the Retry-After hint in seconds (delta or HTTP date)."""
    future = email.utils.formatdate(time.time() + 120, usegmt=True)
    fake.script("get", "/api/v1/namespaces/x",
                Reply(429, status(429, "TooManyRequests"), headers={"Retry-After": "3"}),
                Reply(503, b"overloaded", headers={"Retry-After": future}))
    with pytest.raises(ThrottledError) as first:
        await client.get_json("/api/v1/namespaces/x")
    assert (first.value.status, first.value.retry_after) == (429, 3.0)
    with pytest.raises(ThrottledError) as second:
        await client.get_json("/api/v1/namespaces/x")
    assert second.value.status == 503 and second.value.retry_after is not None and second.value.retry_after > 60
    assert "overloaded" in second.value.message


def test_parse_retry_after_forms() -> None:
    """Retry-After parses delta-seconds and HTTP dates; garbage and absence give None; the past gives 0."""
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


async def test_401_rereads_the_credentials_once_and_retries(fake: FakeApi, tmp_path: Path) -> None:
    """After a 401 the client re-reads the token file (rotated underneath it) and the retry succeeds."""
    token = tmp_path / "token"
    token.write_text("old\n")
    creds = load_credentials(kubeconfig=str(write_kubeconfig(tmp_path / "kc", server=fake.url,
                                                             user={"tokenFile": str(token)})))
    token.write_text("new\n")  # rotated after the credentials were loaded
    fake.require_auth = lambda header: header == "Bearer new"
    fake.script("get", "/version", Reply(body={"ok": True}))
    async with KubeClient(creds) as client:
        assert await client.get_json("/version") == {"ok": True}
    assert [r.headers.get("Authorization") for r in fake.requests] == ["Bearer old", "Bearer new"]


async def test_401_after_the_reload_raises_unauthorized(fake: FakeApi, client: KubeClient) -> None:
    """A 401 that survives one credential reload raises UnauthorizedError after exactly two requests."""
    fake.require_auth = lambda _header: False
    with pytest.raises(UnauthorizedError):
        await client.get_json("/version")
    assert len(fake.requests) == 2


async def test_unreachable_server_is_a_connection_error(fake: FakeApi, tmp_path: Path) -> None:
    """A refused connection raises ApiConnectionError, not an aiohttp exception."""
    url = fake.url
    await fake.stop()
    creds = load_credentials(kubeconfig=str(write_kubeconfig(tmp_path / "kc", server=url)))
    async with KubeClient(creds, connect_timeout=WAIT) as client:
        with pytest.raises(ApiConnectionError):
            await client.get_json("/version")


async def test_non_json_body_is_a_decode_error(fake: FakeApi, client: KubeClient) -> None:
    """A 200 whose body is not a JSON object, or a list without resourceVersion, raises ResponseDecodeError."""
    fake.script("get", "/version", Reply(200, b"<html>hello</html>"))
    fake.script("list", PODS, Reply(body={"items": []}))
    with pytest.raises(ResponseDecodeError):
        await client.get_json("/version")
    with pytest.raises(ResponseDecodeError):
        await client.list_page(PODS)


async def test_pod_log_sends_previous_tail_and_limit_and_caps_an_ignoring_server(
    fake: FakeApi, client: KubeClient
) -> None:
    """pod_log asks for the previous log with tailLines/limitBytes and never reads more than limit_bytes."""
    path = "/api/v1/namespaces/shop/pods/web-1/log"
    huge = b"panic: boom\n" * 50_000  # 600 kB: the server ignores limitBytes
    fake.script("log", path, Reply(200, huge))
    text = await client.pod_log("shop", "web-1", container="app", tail_lines=200, limit_bytes=4096)
    assert len(text.encode()) <= 4096
    assert text.startswith("panic: boom\n")
    assert fake.seen("log")[0].query == {"container": "app", "previous": "true", "tailLines": "200",
                                         "limitBytes": "4096"}


async def test_pod_log_replaces_invalid_utf8(fake: FakeApi, client: KubeClient) -> None:
    """Invalid UTF-8 in a log becomes replacement characters instead of an error."""
    fake.script("log", "/api/v1/namespaces/a/pods/p/log", Reply(200, b"ok \xff\xfe end\n"))
    text = await client.pod_log("a", "p", container="c", tail_lines=10, limit_bytes=1024)
    assert text == "ok \ufffd\ufffd end\n"


async def test_watch_reassembles_lines_split_across_chunks_including_large_ones(
    fake: FakeApi, client: KubeClient
) -> None:
    """Lines split over chunks are joined, lines above aiohttp's 128 KiB readline limit decode, a clean close ends."""
    big = obj("big", "7")
    big["metadata"]["annotations"] = {"blob": "z" * 300_000}
    line = orjson.dumps(ev("ADDED", big)) + b"\n"
    fake.script("watch", PODS, Stream([line[:100_000], Pause(), line[100_000:], ev("DELETED", obj("a", "8"))]))
    got = [(t, msgspec.json.decode(o)["metadata"]["name"] if isinstance(o, msgspec.Raw) else o) async for t, o in
           client.watch(PODS, resource_version="5", timeout_seconds=30, inactivity_timeout=WAIT)]
    assert got == [("ADDED", "big"), ("DELETED", "a")]
    query = fake.seen("watch")[0].query
    assert query == {"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": "30", "resourceVersion": "5"}


@pytest.mark.parametrize(
    "parts",
    [[ev("ADDED", obj("a", "1")), b'{"type":"MODI', Pause(), Drop()], [ev("ADDED", obj("a", "1")), b'{"type":"MOD']],
    ids=["connection-dropped", "clean-close-mid-line"],
)
async def test_watch_cut_mid_event_raises_dropped(fake: FakeApi, client: KubeClient, parts: list[object]) -> None:
    """A stream that ends inside an event raises WatchDroppedError after the complete events."""
    fake.script("watch", PODS, Stream(parts))  # type: ignore[arg-type]
    got: list[str] = []
    with pytest.raises(WatchDroppedError):
        async for t, _ in client.watch(PODS, resource_version="1", timeout_seconds=30, inactivity_timeout=WAIT):
            got.append(t)
    assert got == ["ADDED"]


async def test_watch_inactivity_raises_stalled(fake: FakeApi, client: KubeClient) -> None:
    """No bytes within inactivity_timeout raises WatchStalledError."""
    fake.script("watch", PODS, Stream([Hang()]))
    with pytest.raises(WatchStalledError):
        async for _ in client.watch(PODS, resource_version="1", timeout_seconds=30, inactivity_timeout=0.1):
            pass


async def test_watch_whose_headers_never_come_is_bounded(fake: FakeApi, client: KubeClient) -> None:
    """A watch request answered by silence (no headers) fails after the inactivity timeout instead of hanging."""
    fake.script("watch", PODS, Reply(body={}, delay=2.0))
    with pytest.raises(ApiConnectionError):
        async for _ in client.watch(PODS, resource_version="1", timeout_seconds=30, inactivity_timeout=0.1):
            pass


async def test_https_with_ca_from_kubeconfig(tls_files: tuple[Path, Path], tmp_path: Path) -> None:
    """An https server is trusted through the kubeconfig CA, or with insecure-skip-tls-verify; not without either."""
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    api = FakeApi(ssl_context=server_ctx)
    await api.start()
    try:
        api.script("get", "/version", Reply(body={"tls": True}), Reply(body={"tls": "insecure"}))
        variants: list[tuple[dict[str, Any], dict[str, Any]]] = [
            ({"certificate-authority": str(cert)}, {"tls": True}),
            ({"insecure-skip-tls-verify": True}, {"tls": "insecure"}),
        ]
        for i, (cluster, expected) in enumerate(variants):
            creds = load_credentials(kubeconfig=str(write_kubeconfig(tmp_path / f"kc{i}", server=api.url,
                                                                     cluster=cluster)))
            assert creds.ssl_context is not None
            async with KubeClient(creds) as client:
                assert await client.get_json("/version") == expected
        creds = load_credentials(kubeconfig=str(write_kubeconfig(tmp_path / "kc-untrusted", server=api.url)))
        async with KubeClient(creds) as client:
            with pytest.raises(ApiConnectionError):
                await client.get_json("/version")
    finally:
        await api.stop()
