"""Kubernetes credentials: where the API server is, how to trust it, and what to send as auth.

The official `kubernetes` package already knows every kubeconfig quirk (merged KUBECONFIG paths,
relative file paths, `*-data` fields, exec credential plugins, token files, in-cluster service
account tokens that the kubelet rotates), so we use only its config *loaders* and then leave it:
the loaders fill a `kubernetes.client.Configuration`, and we turn that into the three things our
aiohttp client needs: a base URL, an `ssl.SSLContext`, and an Authorization header. No ApiClient
and no model objects are ever built.

Credentials expire (bound service-account tokens rotate hourly, exec plugins hand out short-lived
tokens), so the header is asked for on every request through the loader's refresh hook, and on a
401 the client calls `reload()` to re-read everything from disk (and re-run the exec plugin) once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from crashloop_exporter.errors import ConfigError
from crashloop_exporter.kube.loaders import (
    ConfigException,
    Configuration,
    InClusterConfigLoader,
    KubeConfigMerger,
    load_kube_config,
)

log = logging.getLogger(__name__)

SERVICE_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
"""Where the kubelet mounts (and rotates) the pod's service-account token."""
SERVICE_CA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
"""The cluster CA bundle mounted next to the token."""
DEFAULT_KUBECONFIG = "~/.kube/config"

# What the loaders raise on bad input; anything else is a bug and should surface as such.
_LOADER_ERRORS = (ConfigException, yaml.YAMLError, OSError, KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True, slots=True)
class _Material:
    """One reading of the credentials (replaced as a whole on reload)."""

    server: str
    ssl_context: ssl.SSLContext | None
    tls_server_name: str | None
    proxy: str | None
    configuration: Any  # kubernetes.client.Configuration (untyped package)


class Credentials:
    """The API server's address, TLS material and current auth header; re-readable.

    Build it with `load_credentials()`. `auth_headers()` may run the loader's refresh hook (an
    expired exec-plugin token re-runs the plugin; the in-cluster token file is re-read every
    minute), so it is async and runs the hook in a thread.
    """

    def __init__(self, *, source: str, loader: Callable[[], Any]) -> None:
        """`loader` returns a freshly loaded kubernetes Configuration; it is called now and on reload()."""
        self.source = source
        """Human description of where the credentials came from (for logs and errors)."""
        self._loader = loader
        self._material = _material(loader(), source)
        self._lock = asyncio.Lock()

    @property
    def server(self) -> str:
        """Base URL of the API server, without a trailing slash (e.g. https://10.0.0.1:443)."""
        return self._material.server

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS context for https servers (CA, client cert, insecure-skip-tls-verify); None for http."""
        return self._material.ssl_context

    @property
    def tls_server_name(self) -> str | None:
        """kubeconfig `tls-server-name`: the name to verify the server certificate against."""
        return self._material.tls_server_name

    @property
    def proxy(self) -> str | None:
        """kubeconfig `proxy-url` (environment proxies are deliberately ignored: NO_PROXY is not
        honoured by the loader, and in-cluster traffic must not leave through an egress proxy)."""
        return self._material.proxy

    async def auth_headers(self) -> dict[str, str]:
        """The current Authorization header (bearer token or basic auth), or {} for anonymous access."""
        async with self._lock:
            cfg = self._material.configuration
            try:
                value = await asyncio.to_thread(cfg.get_api_key_with_prefix, "BearerToken")
            except _LOADER_ERRORS as e:
                raise ConfigError(f"{self.source}: refreshing the credentials failed: {e}") from e
        if not value:
            return {}
        # Token files usually end with a newline; a header value must not contain one.
        return {"Authorization": str(value).strip()}

    async def reload(self) -> None:
        """Re-read everything from disk (token file, kubeconfig, exec plugin), e.g. after a 401."""
        async with self._lock:
            try:
                cfg = await asyncio.to_thread(self._loader)
            except ConfigError:
                raise
            except _LOADER_ERRORS as e:
                raise ConfigError(f"{self.source}: re-reading the credentials failed: {e}") from e
            self._material = _material(cfg, self.source)
        log.info("re-read Kubernetes credentials from %s", self.source)


def load_credentials(
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
    token_path: str = SERVICE_TOKEN_PATH,
    ca_path: str = SERVICE_CA_PATH,
) -> Credentials:
    """Load credentials the way kubectl would, in this order:

    1. `--kubeconfig PATH` (with `--context`) when given;
    2. the in-cluster service account when KUBERNETES_SERVICE_HOST is set and no `--context` was asked for;
    3. `$KUBECONFIG` (colon-separated paths are merged), else ~/.kube/config.

    Blocking (an exec plugin may run): call it at start-up or through `asyncio.to_thread`.
    Raises ConfigError with one sentence when nothing usable is found.
    """
    env = os.environ if environ is None else environ
    if kubeconfig:
        return _from_kubeconfig(kubeconfig, context, explicit=True)
    if env.get("KUBERNETES_SERVICE_HOST") and context is None:
        return _from_incluster(env, token_path=token_path, ca_path=ca_path)
    path = env.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    return _from_kubeconfig(path, context, explicit=False)


def _from_incluster(env: Mapping[str, str], *, token_path: str, ca_path: str) -> Credentials:
    source = f"in-cluster service account ({token_path})"

    def load() -> Any:
        cfg = _blank_configuration()
        try:
            InClusterConfigLoader(
                token_filename=token_path, cert_filename=ca_path, try_refresh_token=True, environ=env
            ).load_and_set(cfg)
        except _LOADER_ERRORS as e:
            raise ConfigError(f"in-cluster credentials could not be loaded: {e}") from e
        return cfg

    return Credentials(source=source, loader=load)


def _from_kubeconfig(paths: str, context: str | None, *, explicit: bool) -> Credentials:
    existing = [p for p in paths.split(os.pathsep) if p and os.path.exists(os.path.expanduser(p))]
    if not existing:
        if explicit:
            raise ConfigError(f"--kubeconfig {paths}: file does not exist")
        raise ConfigError(
            f"no Kubernetes credentials: not running in a cluster (KUBERNETES_SERVICE_HOST is unset) "
            f"and no kubeconfig at {paths}; pass --kubeconfig PATH"
        )
    where = f"kubeconfig {paths}" + (f" context {context}" if context else "")

    def load() -> Any:
        cfg = _blank_configuration()
        try:
            load_kube_config(config_file=paths, context=context, client_configuration=cfg, persist_config=False)
        except _LOADER_ERRORS as e:
            raise ConfigError(f"{where}: {_explain(e, context)}") from e
        _check_exec_plugin(paths, context, cfg, where)
        return cfg

    return Credentials(source=where, loader=load)


def _blank_configuration() -> Any:
    cfg = Configuration()
    # Setting proxy explicitly stops Configuration from adopting $HTTPS_PROXY (it ignores
    # $NO_PROXY); only a kubeconfig `proxy-url` may set one.
    cfg.proxy = None
    return cfg


def _explain(e: BaseException, context: str | None) -> str:
    """Turn the loader's messages into something a user can act on."""
    if isinstance(e, yaml.MarkedYAMLError) and e.problem_mark is not None:
        mark = e.problem_mark
        return f"not valid YAML ({e.problem} at line {mark.line + 1}, column {mark.column + 1})"
    if isinstance(e, yaml.YAMLError):
        return "not valid YAML"
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(e, OSError) and e.strerror:
        return f"cannot read it ({e.strerror[:1].lower()}{e.strerror[1:]})"
    text = " ".join(str(e).split()) or type(e).__name__  # one line, whatever the loader wrote
    if context and "Expected object with name" in text:
        return f"context {context!r} does not exist"
    if "current-context" in text:
        return "no current-context is set; pass --context NAME"
    return text


def _check_exec_plugin(paths: str, context: str | None, cfg: Any, where: str) -> None:
    """The loader logs and swallows exec-plugin failures, leaving us anonymous; make that an error."""
    if cfg.api_key.get("BearerToken") or cfg.cert_file:
        return
    try:
        merged = KubeConfigMerger(paths).config
        ctx_name = context or merged["current-context"]
        user_name = merged["contexts"].get_with_name(ctx_name)["context"].safe_get("user")
        user = merged["users"].get_with_name(user_name, safe=True) if user_name else None
    except _LOADER_ERRORS:
        return  # the loader accepted this file; if we cannot re-walk it, there is no plugin to blame
    if user is not None and "exec" in user["user"]:
        command = user["user"]["exec"].safe_get("command")
        raise ConfigError(f"{where}: the exec credential plugin {command!r} of user {user_name!r} gave no token")


def _material(cfg: Any, source: str) -> _Material:
    server = str(cfg.host or "").rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise ConfigError(f"{source}: server {server!r} is not an http(s) URL")
    return _Material(
        server=server,
        ssl_context=_ssl_context(cfg, source) if server.startswith("https://") else None,
        tls_server_name=cfg.tls_server_name or None,
        proxy=cfg.proxy or None,
        configuration=cfg,
    )


def _ssl_context(cfg: Any, source: str) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
        if cfg.cert_file:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file or None)
    except (ssl.SSLError, OSError) as e:
        raise ConfigError(f"{source}: TLS material (CA or client certificate) is unusable: {e}") from e
    if not cfg.verify_ssl:
        # insecure-skip-tls-verify: true, as kubectl does; logged because it is a security choice.
        log.warning("%s: insecure-skip-tls-verify is set, the API server certificate is not verified", source)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
