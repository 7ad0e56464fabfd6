"""A small Kubernetes API client on aiohttp: LIST pages, GET, WATCH streams and previous logs.

Why not the official client: it is synchronous, builds a model object per item (slow and
memory-hungry for thousands of pods), and its watch reader chokes on lines over 128 KiB. We only
need raw JSON for four kinds of request, so this module is all the HTTP there is. A LIST page or a
watch line is decoded in one pass into the caller's `wire` Structs, objects included, when it
gives a typed decoder (`wire.PAGES`, `wire.LINES`); otherwise, and whenever the typed pass fails,
into its envelope and each object's undecoded bytes (`msgspec.Raw`), decoded by whoever knows
its kind (`parse`), so one malformed item is one skipped object, never a lost page or stream.
Every HTTP error
becomes one of the typed exceptions of `errors`, and a 401 triggers one credential reload and
retry, because tokens rotate underneath a long-running process.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import re
import ssl
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
import msgspec

from crashloop_exporter import __version__, wire
from crashloop_exporter.classify.redact import clean
from crashloop_exporter.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ForbiddenError,
    GoneError,
    ResponseDecodeError,
    ThrottledError,
    UnauthorizedError,
    WatchDroppedError,
    WatchStalledError,
)
from crashloop_exporter.kube.buffers import BodyBuffers
from crashloop_exporter.kube.config import Credentials

log = logging.getLogger(__name__)

USER_AGENT = f"crashloop-exporter/{__version__}"
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A watch line holds one whole object; pods with huge annotations reach MiBs, etcd caps objects at
1.5 MiB by default, so 16 MiB leaves room while bounding memory against a broken stream."""
LARGE_LINE_BYTES = 256 * 1024
"""A watch line this long (a pod of ~500 containers) takes milliseconds to decode: the event loop
gets a turn after it."""
MAX_ERROR_BODY = 64 * 1024
"""Error bodies are Status objects of a few hundred bytes; never read more than this of one."""
MAX_ERROR_MESSAGE = 200
"""Characters of an error body's message kept in the exception (and so in our log): enough for
"container \"app\" in pod \"x\" is waiting to start", not for a log's worth of output."""

Params = Mapping[str, str | int]
WatchObject = msgspec.Raw | msgspec.Struct
"""A listed or watched object: decoded by the typed pass, or its JSON bytes."""
WatchEvent = tuple[str, WatchObject]
"""(event type, the object)."""
TYPED_EVENTS = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK"})
"""Watch event types whose object is of the watched kind (an ERROR's is a Status)."""


class KubeClient:
    """One aiohttp session to one API server. Use as `async with KubeClient(creds) as client:`."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        connect_timeout: float = 10.0,
        request_timeout: float = 60.0,
        max_line_bytes: int = MAX_LINE_BYTES,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.credentials = credentials
        self._connect_timeout = connect_timeout
        self._request_timeout = request_timeout
        self._max_line_bytes = max_line_bytes
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers={"Accept": "application/json", "User-Agent": self._user_agent},
            # Per-request timeouts are set below; watches must not have a total timeout.
            timeout=aiohttp.ClientTimeout(total=None, connect=self._connect_timeout),
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- plain requests -------------------------------------------------------------------

    async def get_json(self, path: str, *, params: Params | None = None) -> dict[str, Any]:
        """GET `path` and return the decoded JSON object."""
        data = _json_object(await self.get_bytes(path, params=params), f"GET {path}")
        if not isinstance(data, dict):
            raise ResponseDecodeError(f"GET {path}: expected a JSON object, got {type(data).__name__}")
        return data

    async def get_unread(self, path: str, *, accept: str) -> None:
        """GET `path` with this Accept header and drop the answer unread: returns when the object is
        there, raises ApiError (404, 403, ...) like get_json when not. For existence checks that
        must never hold the object's data (preflight's Secret checks)."""
        timeout = aiohttp.ClientTimeout(total=self._request_timeout, connect=self._connect_timeout)
        resp = await self._open(path, params=None, timeout=timeout, accept=accept)
        # close(), not release(): a server that ignored the Accept header sent the data; drop it unread.
        resp.close()

    async def get_bytes(
        self, path: str, *, params: Params | None = None, buffers: BodyBuffers | None = None
    ) -> bytes | memoryview:
        """GET `path` and return the body undecoded: a view of one of `buffers` when given."""
        timeout = aiohttp.ClientTimeout(total=self._request_timeout, connect=self._connect_timeout)
        resp = await self._open(path, params=params, timeout=timeout)
        try:
            return await resp.read() if buffers is None else await buffers.read(resp.content.iter_any())
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ApiConnectionError(f"GET {path}: reading the response failed: {_describe(e)}") from e
        finally:
            resp.release()

    async def list_page(
        self,
        path: str,
        *,
        params: Params | None = None,
        typed: msgspec.json.Decoder[Any] | None = None,
        buffers: BodyBuffers | None = None,
    ) -> tuple[list[WatchObject], str, str | None]:
        """One LIST page: (its items, the list's resourceVersion, the continue token or None).
        The items are Structs when `typed` decodes the page, else each item's JSON bytes; with
        `buffers`, the body is read into one of them and the items point into it."""
        return decode_list_page(await self.get_bytes(path, params=params, buffers=buffers), path, typed=typed)

    async def pod_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        previous: bool = True,
        tail_lines: int,
        limit_bytes: int,
        first_byte_timeout: float | None = None,
    ) -> str:
        """The (previous) log of one container, at most `limit_bytes` bytes even if the server
        ignores `limitBytes`, decoded as UTF-8 with invalid bytes replaced.

        `first_byte_timeout` bounds each wait for the server (the response headers, then every
        next chunk) separately from the total: the apiserver proxies pods/log to the kubelet, and
        when it cannot reach that kubelet the request just sits there sending nothing. Raises
        ApiTimeoutError when it runs out."""
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/log"
        params: dict[str, str | int] = {"container": container, "tailLines": tail_lines, "limitBytes": limit_bytes}
        if previous:
            params["previous"] = "true"
        timeout = aiohttp.ClientTimeout(
            total=self._request_timeout, connect=self._connect_timeout, sock_read=first_byte_timeout
        )
        resp = await self._open(path, params=params, timeout=timeout, accept="text/plain, */*")
        chunks: list[bytes] = []
        size = 0
        try:
            while size < limit_bytes:
                chunk = await resp.content.read(limit_bytes - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _connection_error(f"GET {path}: reading the log failed", e) from e
        finally:
            # close(), not release(): an unread remainder must not be drained into a pooled connection.
            resp.close()
        return b"".join(chunks).decode("utf-8", errors="replace")

    # --- watch ------------------------------------------------------------------------------

    async def watch(
        self,
        path: str,
        *,
        resource_version: str | None,
        params: Params | None = None,
        timeout_seconds: int,
        inactivity_timeout: float,
        on_bad_line: Callable[[], None] | None = None,
        typed: msgspec.json.Decoder[Any] | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Stream (type, object) watch events until the server closes the stream.

        Ends normally on a clean close (the server's `timeoutSeconds` elapsed). Raises
        WatchStalledError when no byte arrives for `inactivity_timeout` seconds, WatchDroppedError
        when the stream breaks mid-event, ResponseDecodeError for a line over the buffer bound.
        A line that is not a JSON watch event is skipped and reported through `on_bad_line`.
        With `typed` (a `wire.LINES` decoder), objects come decoded; see the module docstring.
        Use with `contextlib.aclosing` so an early exit closes the connection.
        """
        query: dict[str, str | int] = dict(params or {})
        query.update(watch="true", allowWatchBookmarks="true", timeoutSeconds=timeout_seconds)
        if resource_version:
            query["resourceVersion"] = resource_version
        # No total timeout: the stream is long by design. sock_read bounds the wait for the
        # response headers (a proxy that accepts and then hangs); _lines checks inactivity itself.
        timeout = aiohttp.ClientTimeout(total=None, connect=self._connect_timeout, sock_read=inactivity_timeout)
        resp = await self._open(path, params=query, timeout=timeout)
        try:
            lines = self._lines(resp, path=path, inactivity_timeout=inactivity_timeout)
            async with aclosing(lines):
                async for line in lines:
                    # One call even for a line of MiBs (~5 ms per 1000 containers of a pod), not
                    # asyncio.to_thread: msgspec holds the GIL while it decodes, so a thread did not
                    # free the loop (measured); the handler then applies the object in steps.
                    event = decode_watch_line(line, typed)
                    if len(line) > LARGE_LINE_BYTES:
                        # A pod of thousands of containers: its decode was one long call; let
                        # /healthz and scrapes run before the handler's first step adds another.
                        await asyncio.sleep(0)
                    if event is None:
                        log.warning("watch %s: skipped a non-JSON line (%d bytes)", path, len(line))
                        if on_bad_line is not None:
                            on_bad_line()
                        continue
                    yield event
        finally:
            resp.close()

    async def _lines(
        self, resp: aiohttp.ClientResponse, *, path: str, inactivity_timeout: float
    ) -> AsyncGenerator[bytes, None]:
        """Split the chunked body into lines. Lines may span chunks and be large; aiohttp's own
        readline() refuses lines over 128 KiB, so we keep our own buffer bounded by max_line_bytes."""
        buf = bytearray()
        while True:
            try:
                async with asyncio.timeout(inactivity_timeout):
                    chunk = await resp.content.readany()
            except TimeoutError as e:
                raise WatchStalledError(
                    f"watch {path}: no data for {inactivity_timeout:g}s (not even a bookmark)"
                ) from e
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as e:
                raise WatchDroppedError(f"watch {path}: the stream broke: {_describe(e)}") from e
            if not chunk:
                if buf.strip():
                    raise WatchDroppedError(f"watch {path}: the stream ended in the middle of an event")
                return
            buf += chunk
            lines, start = _split_lines(buf, self._max_line_bytes)
            del buf[:start]
            for line in lines:
                yield line
            # When `_split_lines` stopped at an oversized line, buf starts with it: this catches it too.
            if len(buf) > self._max_line_bytes:
                raise ResponseDecodeError(f"watch {path}: an event is larger than {self._max_line_bytes} bytes")

    # --- plumbing ---------------------------------------------------------------------------

    async def _open(
        self,
        path: str,
        *,
        params: Params | None,
        timeout: aiohttp.ClientTimeout,
        accept: str | None = None,
    ) -> aiohttp.ClientResponse:
        """Send a GET and return the response with a 2xx status (the caller releases it).
        On 401, re-read the credentials once and retry; every other error status raises."""
        if self._session is None:
            raise RuntimeError("KubeClient used outside `async with`")
        url = self.credentials.server + path
        query = {k: str(v) for k, v in (params or {}).items()}
        for attempt in (1, 2):
            headers = await self.credentials.auth_headers()
            if accept:
                headers["Accept"] = accept
            ssl_ctx = self.credentials.ssl_context
            try:
                resp = await self._session.get(
                    url,
                    params=query,
                    headers=headers,
                    timeout=timeout,
                    ssl=ssl_ctx if ssl_ctx is not None else True,
                    server_hostname=self.credentials.tls_server_name,
                    proxy=self.credentials.proxy,
                )
            except (aiohttp.ClientError, TimeoutError) as e:
                raise _connection_error(f"GET {path}", e) from e
            if resp.status < 400:
                return resp
            try:
                error = await _error_from(resp, path, read_timeout=self._request_timeout)
            finally:
                resp.close()
            if isinstance(error, UnauthorizedError) and attempt == 1:
                log.info("GET %s: 401 Unauthorized, re-reading credentials once", path)
                try:
                    await self.credentials.reload()
                except Exception as e:
                    log.warning("GET %s: re-reading credentials after a 401 failed: %s", path, e)
                    raise error from e
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _split_lines(buf: bytearray, max_line_bytes: int) -> tuple[list[bytes], int]:
    """The complete non-empty lines at the start of `buf`, each copied once, and where the rest
    begins; stops before a line longer than `max_line_bytes` (the caller reports it)."""
    lines: list[bytes] = []
    start = 0
    with memoryview(buf) as view:
        while (end := buf.find(b"\n", start)) >= 0:
            if end - start > max_line_bytes:
                break
            line = bytes(view[start:end]).strip()
            start = end + 1
            if line:
                lines.append(line)
    return lines, start


def decode_list_page(
    body: bytes | memoryview, path: str, *, typed: msgspec.json.Decoder[Any] | None = None
) -> tuple[list[WatchObject], str, str | None]:
    """A LIST body split into its items, its resourceVersion and its continue token: the items
    decoded by `typed` when the whole page fits it, else each item's bytes."""
    page: Any = None
    if typed is not None:
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            page = typed.decode(body)
    try:
        if page is None:
            page = wire.LIST_PAGE.decode(body)
    except msgspec.ValidationError as e:
        raise ResponseDecodeError(f"LIST {path}: not a list of objects: {e}") from None
    except msgspec.DecodeError as e:
        raise ResponseDecodeError(f"GET {path}: the response is not JSON: {e}") from None
    if not page.metadata.resourceVersion:
        raise ResponseDecodeError(f"LIST {path}: the list has no metadata.resourceVersion")
    # The API sends null for an empty list in some versions.
    return page.items or [], page.metadata.resourceVersion, page.metadata.continue_ or None


def _json_object(body: bytes | memoryview, what: str) -> object:
    try:
        return wire.ANY.decode(body)
    except msgspec.DecodeError as e:
        raise ResponseDecodeError(f"{what}: the response is not JSON: {e}") from None


def decode_watch_line(line: bytes, typed: msgspec.json.Decoder[Any] | None) -> WatchEvent | None:
    """(type, object) of a watch line; None for a line that is not a watch event."""
    if typed is not None:
        try:
            decoded = typed.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass  # malformed object, an ERROR's Status, or not JSON: the generic pass below says which
        else:
            if decoded.type in TYPED_EVENTS:
                return decoded.type, decoded.object
    try:
        event = wire.WATCH_LINE.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if bytes(memoryview(event.object)[:1]) != b"{":
        return None
    return event.type, event.object


async def _error_from(resp: aiohttp.ClientResponse, path: str, *, read_timeout: float) -> ApiError:
    """Build the typed error for a >= 400 response from its Status body when there is one."""
    status = resp.status
    reason = safe_reason(resp.reason or "")
    message = ""
    body = b""
    try:
        # Bounded in size and time: an error body on a watch URL has no total timeout.
        async with asyncio.timeout(read_timeout):
            while len(body) < MAX_ERROR_BODY:
                chunk = await resp.content.read(MAX_ERROR_BODY - len(body))
                if not chunk:
                    break
                body += chunk
    except (aiohttp.ClientError, TimeoutError) as e:
        log.debug("GET %s: could not read the error body: %s", path, _describe(e))
    try:
        data = wire.ANY.decode(body) if body else None
    except msgspec.DecodeError:
        data = None
    if isinstance(data, dict) and data.get("kind") == "Status":
        reason = safe_reason(str(data.get("reason") or ""), reason)
        message = str(data.get("message") or "")
    elif body:
        message = body[:MAX_ERROR_BODY].decode("utf-8", errors="replace")
    # A pods/log error body can carry the container's own output (credentials included), and the
    # message ends up in our WARNING log: keep it short, on one line, with credentials masked.
    message = safe_message(message)
    message = f"GET {path}: {message}" if message else f"GET {path}"
    if status == 410:
        return GoneError(status, reason, message)
    if status == 401:
        return UnauthorizedError(status, reason, message)
    if status == 403:
        return ForbiddenError(status, reason, message)
    if status in (429, 503):
        return ThrottledError(status, reason, message, retry_after=parse_retry_after(resp.headers.get("Retry-After")))
    return ApiError(status, reason, message)


def safe_message(message: str) -> str:
    """An API error message fit for our log and exceptions: one line, credentials masked, at most
    MAX_ERROR_MESSAGE characters (a Status message may be a whole log; a proxy's body anything)."""
    return clean(message, limit=MAX_ERROR_MESSAGE)


_REASON = re.compile(r"[A-Za-z][A-Za-z0-9 ]{0,63}")


def safe_reason(reason: str, default: str = "") -> str:
    """A Status `reason` (`NotFound`, `InternalError`) or HTTP reason phrase, or `default` when the
    server sent something else: the reason is a short CamelCase word, never free text."""
    reason = reason.strip()
    return reason if _REASON.fullmatch(reason) else default


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unparsable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(e: BaseException) -> str:
    """One line that says which: unreachable (and why), or reached but TLS failed (and why).

    aiohttp's own text names the SSLContext object's repr and wraps the errno in brackets,
    which tells a user neither what failed nor what to fix."""
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        cert = e.certificate_error
        reason = getattr(cert, "verify_message", None) or getattr(cert, "reason", None) or str(cert)
        return (f"TLS failed: the API server {e.host}:{e.port} presented a certificate this client does not trust "
                f"({reason}); check the kubeconfig's certificate-authority(-data) or tls-server-name")
    if isinstance(e, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        return f"TLS failed: handshake with the API server failed ({_os_reason(e)})"
    if isinstance(e, aiohttp.ClientConnectorError):
        return f"the API server {e.host}:{e.port} is unreachable: {_os_reason(e)}"
    return str(e) or type(e).__name__


def _os_reason(e: aiohttp.ClientConnectorError | aiohttp.ClientSSLError) -> str:
    os_error = getattr(e, "os_error", None)
    if isinstance(os_error, OSError) and os_error.errno and os_error.errno > 0 and not isinstance(
            os_error, ssl.SSLError):
        return os.strerror(os_error.errno).lower()
    text = str(os_error or e)
    return " ".join(text.split()) or type(e).__name__


def _connection_error(what: str, e: BaseException) -> ApiConnectionError:
    """A server that went silent (read or total timeout) is ApiTimeoutError; a connect timeout is
    not: then the API server itself is unreachable, which says nothing about a kubelet."""
    silent = isinstance(e, TimeoutError) and not isinstance(e, aiohttp.ConnectionTimeoutError)
    return (ApiTimeoutError if silent else ApiConnectionError)(f"{what}: {_describe(e)}")
