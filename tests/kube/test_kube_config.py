"""Credentials through the kubernetes package's loaders: kubeconfig, contexts, exec plugins, in-cluster."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from crashloop_exporter.errors import ConfigError
from crashloop_exporter.kube.config import load_credentials

from .helpers import exec_user, write_kubeconfig


async def test_kubeconfig_token_gives_server_and_bearer_header(tmp_path: Path) -> None:
    """A kubeconfig with a token and an http server gives that base URL, no TLS context and a bearer header."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://127.0.0.1:8001/", user={"token": "abc"})
    creds = load_credentials(kubeconfig=str(kc))
    assert creds.server == "http://127.0.0.1:8001"
    assert creds.ssl_context is None
    assert await creds.auth_headers() == {"Authorization": "Bearer abc"}
    assert str(kc) in creds.source


async def test_context_flag_selects_another_cluster_and_user(tmp_path: Path) -> None:
    """--context picks that context's server and credentials instead of current-context."""
    kc = write_kubeconfig(tmp_path / "kc", server="", current="prod", contexts={
        "prod": ("http://prod.invalid:80", {"token": "prod-token"}),
        "staging": ("http://staging.invalid:80", {"token": "staging-token"}),
    })
    default = load_credentials(kubeconfig=str(kc))
    staging = load_credentials(kubeconfig=str(kc), context="staging")
    assert default.server == "http://prod.invalid:80"
    assert staging.server == "http://staging.invalid:80"
    assert await staging.auth_headers() == {"Authorization": "Bearer staging-token"}


async def test_kubeconfig_env_is_used_when_no_flag_and_not_in_cluster(tmp_path: Path) -> None:
    """Without --kubeconfig and outside a cluster, $KUBECONFIG (colon-separated, merged) is read."""
    first = write_kubeconfig(tmp_path / "a", server="http://a.invalid:80", current="fake")
    second = tmp_path / "b"  # missing files in the list are ignored, as kubectl does
    creds = load_credentials(environ={"KUBECONFIG": f"{second}:{first}"})
    assert creds.server == "http://a.invalid:80"


async def test_basic_auth_user(tmp_path: Path) -> None:
    """username/password users send HTTP basic auth."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user={"username": "u", "password": "p"})
    headers = await load_credentials(kubeconfig=str(kc)).auth_headers()
    assert headers == {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}


async def test_exec_plugin_token_and_rerun_on_reload(tmp_path: Path) -> None:
    """An exec credential plugin's token is used, and reload() runs the plugin again for a fresh one."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user=exec_user(tmp_path))
    creds = load_credentials(kubeconfig=str(kc))
    assert await creds.auth_headers() == {"Authorization": "Bearer exec-token-1"}
    await creds.reload()
    assert await creds.auth_headers() == {"Authorization": "Bearer exec-token-2"}


def test_failing_exec_plugin_is_a_config_error(tmp_path: Path) -> None:
    """An exec plugin that fails leaves no token: that is a ConfigError naming the plugin, not anonymous access."""
    user = exec_user(tmp_path, script="import sys; sys.exit(3)\n")
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user=user)
    with pytest.raises(ConfigError, match="exec credential plugin"):
        load_credentials(kubeconfig=str(kc))


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-file", "file does not exist"),
        ("unknown-context", "context 'nope' does not exist"),
        ("no-kubeconfig-anywhere", "not running in a cluster"),
        ("not-yaml", "kubeconfig"),
    ],
    ids=lambda v: str(v),
)
def test_unusable_kubeconfig_is_one_clear_config_error(tmp_path: Path, setup: str, message: str) -> None:
    """Missing files, unknown contexts and broken YAML raise ConfigError with one sentence saying which."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80")
    if setup == "missing-file":
        call = {"kubeconfig": str(tmp_path / "absent")}
    elif setup == "unknown-context":
        call = {"kubeconfig": str(kc), "context": "nope"}
    elif setup == "no-kubeconfig-anywhere":
        call = {"environ": {"KUBECONFIG": str(tmp_path / "absent")}}  # type: ignore[dict-item]
    else:
        bad = tmp_path / "bad"
        bad.write_text("clusters: [unclosed\n")
        call = {"kubeconfig": str(bad)}
    with pytest.raises(ConfigError, match=message) as info:
        load_credentials(**call)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


async def test_in_cluster_service_account_and_token_rotation(tmp_path: Path, tls_files: tuple[Path, Path]) -> None:
    """With KUBERNETES_SERVICE_HOST set, the service-account token and CA are used; reload() reads a rotated token."""
    cert, _ = tls_files
    token = tmp_path / "token"
    token.write_text("sa-token-1\n")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    creds = load_credentials(environ=env, token_path=str(token), ca_path=str(cert))
    assert creds.server == "https://10.0.0.1:443"
    assert creds.ssl_context is not None and creds.ssl_context.verify_mode.name == "CERT_REQUIRED"
    assert await creds.auth_headers() == {"Authorization": "bearer sa-token-1"}
    token.write_text("sa-token-2\n")
    await creds.reload()
    assert await creds.auth_headers() == {"Authorization": "bearer sa-token-2"}


def test_in_cluster_without_token_is_a_config_error(tmp_path: Path) -> None:
    """In a cluster without a mounted token, loading fails with a ConfigError."""
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(ConfigError, match="in-cluster"):
        load_credentials(environ=env, token_path=str(tmp_path / "none"), ca_path=str(tmp_path / "none.crt"))


def test_context_flag_prefers_kubeconfig_even_in_cluster(tmp_path: Path) -> None:
    """Asking for a --context inside a pod reads $KUBECONFIG, since a context only exists there."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://ctx.invalid:80")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBECONFIG": str(kc)}
    assert load_credentials(environ=env, context="fake").server == "http://ctx.invalid:80"
