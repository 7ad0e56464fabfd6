"""The `kubernetes` package's credential loaders, imported without the API client they sit next to.

`import kubernetes.config` runs `kubernetes/__init__.py`, which imports `client` (ApiClient and
pydantic), `dynamic` (kubernetes-validate and jsonschema), `stream` (websocket), `watch`,
`informer`, `leaderelection` and `utils`; older releases (29, for one) also import every API and model class
there. The exporter needs four modules of it: `client.configuration`, `config.kube_config`,
`config.incluster_config` and `config.config_exception`. Importing only those keeps ~12 MiB and
~200 modules out of every exporter process (the issue's RSS budget has no room for them).

How: while the four import, the three parent packages are stand-in module objects in
`sys.modules` with the real `__path__`, whose `__init__` does not run. Then the stand-ins are
taken out again, so that whoever imports `kubernetes` later (tests, the simulator's tests, a
future caller) gets the whole package the normal way, and its `__init__`s find the four modules
in `sys.modules` and reuse them (one Configuration class, one ConfigException). A one-shot import
hook hands each freshly imported parent package those already loaded submodules as attributes,
as a normal import would have set them (`kubernetes.config.kube_config` must resolve for
`mock.patch` and dotted access).

`kube_config` does `from kubernetes.client import ApiClient, Configuration`. Configuration is the
real class. ApiClient is needed only by `new_client_from_config*` and by the OIDC auth-provider
refresh; kube_config gets `_api_client`, which imports the real ApiClient when called, so both
still work, at the cost of the full import then.

`kube_config` also imports `oauthlib.oauth2` and `requests_oauthlib` (and through it `requests`:
~160 modules, ~6 MiB) at its top, for the OIDC refresh alone. While it imports, those names are
`_OnFirstUse` stand-ins that import the real module when the refresh first touches them, and they
leave `sys.modules` with the parents, so any other importer gets the real modules.

When `kubernetes` is already imported, or its layout is not the one described here (a release
that moves a module), the modules are imported the normal way: never a crash, only the memory.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import types
from typing import Any

log = logging.getLogger(__name__)

_PACKAGES = ("kubernetes", "kubernetes.client", "kubernetes.config")
"""The packages whose `__init__` the lean import skips, parents first."""
_LOADERS = ("kubernetes.config.config_exception", "kubernetes.config.incluster_config", "kubernetes.config.kube_config")


class _AdoptLoadedSubmodules(importlib.abc.MetaPathFinder):
    """When one of `_PACKAGES` is imported for real, give it the submodules loaded without it."""

    def __init__(self) -> None:
        self.waiting = set(_PACKAGES)

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.waiting:
            return None
        self.waiting.discard(fullname)
        if not self.waiting:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _AdoptingLoader(spec.loader)
                return spec
        return None


class _AdoptingLoader(importlib.abc.Loader):
    """Sets the loaded submodules as attributes, puts the real loader back, then runs `__init__`."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        prefix = module.__name__ + "."
        for name, submodule in list(sys.modules.items()):
            if name.startswith(prefix) and "." not in name[len(prefix):]:
                setattr(module, name[len(prefix):], submodule)
        self.loader.exec_module(module)


class _OnFirstUse(types.ModuleType):
    """Stands for a module that kube_config imports at its top but uses only in the OIDC refresh:
    an attribute read imports the real module (or its submodule) and answers from it."""

    def __getattr__(self, attr: str) -> Any:
        real = importlib.import_module(self.__name__)
        if real is self:  # still in sys.modules: the lean import is under way, nothing to give yet
            raise AttributeError(attr)
        try:
            return getattr(real, attr)
        except AttributeError:
            return importlib.import_module(f"{self.__name__}.{attr}")


def _oauth2_session(*args: Any, **kwargs: Any) -> Any:
    """kube_config's `OAuth2Session` (the OIDC refresh): the real one, imported when called."""
    return importlib.import_module("requests_oauthlib").OAuth2Session(*args, **kwargs)


_ON_FIRST_USE = ("oauthlib", "oauthlib.oauth2", "requests_oauthlib")
"""Imported by kube_config at its top, used by its OIDC refresh only."""


def _stand_ins() -> dict[str, types.ModuleType]:
    """`_OnFirstUse` modules for those of `_ON_FIRST_USE` not imported yet."""
    if any(name in sys.modules for name in _ON_FIRST_USE):
        return {}  # imported already (by someone else): nothing to save
    modules: dict[str, types.ModuleType] = {name: _OnFirstUse(name) for name in _ON_FIRST_USE}
    modules["oauthlib"].__dict__["oauth2"] = modules["oauthlib.oauth2"]  # `import oauthlib.oauth2` sets it so
    modules["requests_oauthlib"].__dict__["OAuth2Session"] = _oauth2_session
    return modules


def _api_client(*args: Any, **kwargs: Any) -> Any:
    """kube_config's `ApiClient`: the real one, imported (with the whole client) only when called."""
    return importlib.import_module("kubernetes.client").ApiClient(*args, **kwargs)


def _import_lean() -> None:
    """Import the four loader modules without the parent packages; the normal import if that fails."""
    if "kubernetes" in sys.modules:  # imported already: nothing to save
        return
    before = set(sys.modules)
    try:
        for name in _PACKAGES:
            spec = importlib.util.find_spec(name)  # the parent is in sys.modules already: no __init__ runs
            if spec is None or spec.loader is None or spec.submodule_search_locations is None:
                raise ImportError(f"{name} is not a package here", name=name)
            sys.modules[name] = importlib.util.module_from_spec(spec)
        client: Any = sys.modules["kubernetes.client"]
        client.Configuration = importlib.import_module("kubernetes.client.configuration").Configuration
        client.ApiClient = _api_client
        stand_ins = _stand_ins()
        sys.modules.update(stand_ins)
        try:
            for name in _LOADERS:
                importlib.import_module(name)
        finally:
            for name in stand_ins:
                del sys.modules[name]
    except Exception as e:  # any surprise in the layout means: import it the normal way
        for name in set(sys.modules) - before:
            if name == "kubernetes" or name.startswith("kubernetes."):
                del sys.modules[name]
        log.debug("importing the kubernetes package whole (%s: %s)", type(e).__name__, e)
        return
    for name in _PACKAGES:
        del sys.modules[name]
    sys.meta_path.insert(0, _AdoptLoadedSubmodules())


_import_lean()

# Imported by their full names, which are in sys.modules now: the parent packages are not imported.
from kubernetes.client.configuration import Configuration as _Configuration  # noqa: E402
from kubernetes.config.config_exception import ConfigException as _ConfigException  # noqa: E402
from kubernetes.config.incluster_config import InClusterConfigLoader as _InClusterConfigLoader  # noqa: E402
from kubernetes.config.kube_config import KubeConfigMerger as _Merger  # noqa: E402
from kubernetes.config.kube_config import list_kube_config_contexts as _contexts  # noqa: E402
from kubernetes.config.kube_config import load_kube_config as _load_kube_config  # noqa: E402

# The package is untyped; these aliases keep `Any` at this one boundary.
Configuration: Any = _Configuration
"""`kubernetes.client.Configuration`, which the loaders fill."""
InClusterConfigLoader: Any = _InClusterConfigLoader
load_kube_config: Any = _load_kube_config
KubeConfigMerger: Any = _Merger
list_kube_config_contexts: Any = _contexts
ConfigException: type[Exception] = _ConfigException

__all__ = [
    "ConfigException",
    "Configuration",
    "InClusterConfigLoader",
    "KubeConfigMerger",
    "list_kube_config_contexts",
    "load_kube_config",
]
