"""kube.loaders: the serve path imports the kubernetes package's config loaders only, and they still load.

Each test runs a fresh interpreter: what is imported is a property of a whole process, and this
pytest process has imported the package already, one way or the other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .helpers import exec_user, write_kubeconfig

NOT_ON_THE_SERVE_PATH = (
    "kubernetes.client.api",  # the API classes (and their pydantic), eager in older releases (29)
    "kubernetes.client.api_client",
    "kubernetes.client.models",
    "kubernetes.dynamic",
    "kubernetes.stream",
    "kubernetes.watch",
    "pydantic",
    "oauthlib",  # kube_config's OIDC refresh only, imported when it runs
    "requests_oauthlib",
    "requests",
    "crashloop_exporter.preflight",  # other subcommands' modules
    "crashloop_exporter.rulegen",
    "crashloop_exporter.render",
)

LOAD = """
import asyncio, json, sys
from crashloop_exporter.kube.config import load_credentials
creds = load_credentials(kubeconfig=sys.argv[1])
print(json.dumps({"server": creds.server, "headers": asyncio.run(creds.auth_headers()),
                  "package": "kubernetes" in sys.modules, "modules": sorted(sys.modules)}))
"""


def _run(code: str, *args: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return doc


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_serve_path_imports_no_api_classes_and_loads_exec_credentials(tmp_path: Path) -> None:
    """`serve`'s imports leave out the API/model classes and the other subcommands, and an exec plugin still logs in."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user=exec_user(tmp_path))
    code = ("from crashloop_exporter.cli.main import build_parser; build_parser(['serve'])\n"
            "import crashloop_exporter.serve.app\n" + LOAD)
    doc = _run(code, str(kc))
    assert doc["server"] == "http://x.invalid:80"
    assert doc["headers"] == {"Authorization": "Bearer exec-token-1"}
    assert _loaded(doc["modules"], NOT_ON_THE_SERVE_PATH) == []
    assert "kubernetes.config.kube_config" in doc["modules"]


def test_whole_package_is_there_for_whoever_asks_for_it(tmp_path: Path) -> None:
    """After the lean import, `import kubernetes` gives the whole package around the loaders' own modules,
    and kube_config's ApiClient (OIDC refresh, new_client_from_config) builds the real one."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user={"token": "abc"})
    code = LOAD.replace("print(", "before = dict(package='kubernetes' in sys.modules)\nprint(") + """
from kubernetes import client, config
from kubernetes.client.api_client import ApiClient
from crashloop_exporter.kube import loaders
cfg = client.Configuration()
config.load_kube_config(config_file=sys.argv[1], client_configuration=cfg)
assert cfg.api_key["BearerToken"] == "Bearer abc", cfg.api_key
assert client.Configuration is loaders.Configuration and hasattr(client, "CoreV1Api")
assert isinstance(sys.modules["kubernetes.config.kube_config"].ApiClient(configuration=cfg), ApiClient)
import kubernetes.config.kube_config, kubernetes.watch
assert kubernetes.config.kube_config.load_kube_config is loaders.load_kube_config
assert kubernetes.client.configuration.Configuration is loaders.Configuration
print(json.dumps(dict(before, modules=sorted(sys.modules))))
"""
    doc = _run(code, str(kc))
    assert doc["package"] is False  # the lean import was used; the whole package came on demand
    assert "kubernetes.client.api_client" in doc["modules"]


def test_oidc_refresh_gets_the_real_oauth_modules_when_it_runs(tmp_path: Path) -> None:
    """kube_config's `oauthlib` and `OAuth2Session`, left out of the lean import, are the real ones
    when the OIDC refresh reaches for them, and `import oauthlib` elsewhere gets the real package."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user={"token": "abc"})
    code = LOAD.replace("print(", "before = sorted(sys.modules)\nprint(") + """
kube_config = sys.modules["kubernetes.config.kube_config"]
error = kube_config.oauthlib.oauth2.rfc6749.errors.InvalidClientIdError
session = kube_config.OAuth2Session(client_id="kubernetes", token={"id_token": "t"})
import oauthlib.oauth2.rfc6749.errors, requests_oauthlib
assert error is oauthlib.oauth2.rfc6749.errors.InvalidClientIdError
assert isinstance(session, requests_oauthlib.OAuth2Session)
assert type(sys.modules["oauthlib"]).__name__ == "module"
print(json.dumps(dict(modules=before)))
"""
    doc = _run(code, str(kc))
    assert _loaded(doc["modules"], ("oauthlib", "requests_oauthlib", "requests")) == []


def test_kubernetes_imported_first_is_used_as_it_is(tmp_path: Path) -> None:
    """With the package imported before the exporter, the loaders are its own modules, untouched."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user={"token": "abc"})
    doc = _run("import kubernetes\n" + LOAD, str(kc))
    assert doc["package"] is True
    assert doc["headers"] == {"Authorization": "Bearer abc"}


def test_unexpected_package_layout_falls_back_to_the_normal_import(tmp_path: Path) -> None:
    """A release whose loader module cannot be imported that way (here: hidden while the parents'
    `__init__` is skipped) gets the normal whole-package import, and credentials load as before."""
    kc = write_kubeconfig(tmp_path / "kc", server="http://x.invalid:80", user={"token": "abc"})
    hide = """
import sys
class HideWhileInitSkipped:
    def find_spec(self, name, path=None, target=None):
        if name == "kubernetes.config.incluster_config" and not hasattr(sys.modules["kubernetes"], "__version__"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, HideWhileInitSkipped())
"""
    doc = _run(hide + LOAD, str(kc))
    assert doc["package"] is True
    assert doc["headers"] == {"Authorization": "Bearer abc"}
    assert "kubernetes.dynamic" in doc["modules"]  # the whole package, as `import kubernetes` gives it
