"""Command-line flags derived from `Settings` field metadata, shared by every subcommand.

A subcommand names the Settings fields it takes; `add_setting_flags` adds their options (the
`Flag` declared on the field: name, help, metavar, choices) and `resolve_setting_flags` turns the
command line, else `CRASHLOOP_<FLAG>`, else the default, into typed values. Options are parsed
here rather than by argparse `type=`, so that a bad flag and a bad env var fail the same way: one
sentence naming the flag (and the env var it came from) and what was expected, exit 2 from `main`.
"""

from __future__ import annotations

import argparse
import os
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import Field
from typing import Any

from crashloop_exporter.errors import InputError
from crashloop_exporter.settings import Bounds, Flag, Settings, describe_value, flag_fields, out_of_range

CLUSTER_FIELDS = ("kubeconfig", "context")
"""Credentials, taken by every subcommand that talks to a cluster."""
SERVE_FIELDS = tuple(f.name for f, _ in flag_fields())
"""`serve` takes every flag Settings declares."""

TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")
"""The boolean env var spellings; anything else is an error, so `CRASHLOOP_NO_LOGS=maybe` is not
silently false."""

_FIELDS_KEY = "_setting_fields"
_DEFAULTS_KEY = "_setting_defaults"
_RAW_PREFIX = "_raw_"


def _hints() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def _field(name: str) -> tuple[Field[Any], Flag]:
    for f, flag in flag_fields():
        if f.name == name:
            return f, flag
    raise KeyError(f"Settings.{name} has no flag")


def _help(f: Field[Any], flag: Flag, default: object) -> str:
    bounds = f.metadata.get("bounds")
    tail: list[str] = []
    if bounds is not None:
        tail.append(bounds.describe())
    if _hints()[f.name] is bool:
        tail.append(f"env {flag.env}=true")
    else:
        if default not in (None, "", ()):
            if isinstance(default, tuple):
                shown = ",".join(default)
            else:
                shown = default if isinstance(default, str) else describe_value(default)
            tail.append(f"default {shown}")
        tail.append(f"env {flag.env}")
    text = f"{flag.help} ({'; '.join(tail)})"
    return text.replace("%", "%%")  # argparse %-formats help strings


def add_setting_flags(
    parser: argparse.ArgumentParser, names: Iterable[str], *, defaults: Mapping[str, object] | None = None
) -> None:
    """Add the flags of these Settings fields; `defaults` replaces a field's default for this command."""
    names = tuple(names)
    defaults = dict(defaults or {})
    hints = _hints()
    for name in names:
        f, flag = _field(name)
        default = defaults.get(name, f.default)
        if hints[name] is bool:
            parser.add_argument(flag.name, dest=_RAW_PREFIX + name, action="store_const", const=True, default=None,
                                help=_help(f, flag, default))
        else:
            metavar = "{" + ",".join(flag.choices) + "}" if flag.choices else flag.metavar
            parser.add_argument(flag.name, dest=_RAW_PREFIX + name, default=None, metavar=metavar,
                                help=_help(f, flag, default))
    known = dict(parser.get_default(_FIELDS_KEY) or {})
    known.update({name: defaults.get(name, _field(name)[0].default) for name in names})
    parser.set_defaults(**{_FIELDS_KEY: known})


def _parse(f: Field[Any], flag: Flag, hint: Any, raw: str, *, source: str) -> object:
    """A flag's or env var's text as the field's type; InputError in one sentence otherwise."""
    origin = f" (from {source})" if source != flag.name else ""
    where = f"{flag.name} {raw!r}{origin}"
    bounds = f.metadata.get("bounds")
    within = f", {bounds.describe()}" if bounds is not None else ""
    value: object
    if hint is bool:
        word = raw.strip().lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise InputError(f"{where}: expected 1, 0, true, false, yes or no")
        value = flag.sets if word in TRUE_WORDS else not flag.sets
    elif hint is int:
        try:
            value = int(raw)
        except ValueError:
            raise InputError(f"{where}: expected an integer{within}") from None
    elif hint is float:
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"{where}: expected a number{within}") from None
    elif hint == tuple[str, ...]:
        value = csv(raw)
    else:
        value = raw.lower() if flag.choices else raw
    reason = out_of_range(f, value)
    if reason is not None:
        shown = describe_value(value) if isinstance(value, int | float) else repr(raw)
        raise InputError(f"{flag.name} {shown}{origin}: {reason}")
    return value


def bounded_number(bounds: Bounds) -> Callable[[str], float]:
    """An argparse `type=` for a subcommand's own numeric flag: a number inside `bounds`, else
    argparse's one-line `argument --flag: ...` error."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r}: expected a number, {bounds.describe()}") from None
        if not bounds.admits(value):
            raise argparse.ArgumentTypeError(f"{raw!r}: must be {bounds.describe()}")
        return value

    return parse


def csv(value: str) -> tuple[str, ...]:
    """`a, b,,c` to ("a", "b", "c"): the form of every list flag."""
    return tuple(v.strip() for v in value.split(",") if v.strip())


def resolve_setting_flags(args: argparse.Namespace) -> None:
    """Set `args.<field>` for every setting flag the command took: command line, else env, else default.

    Idempotent; `main` calls it for every subcommand, so a bad value is one line and exit 2."""
    known: dict[str, object] = getattr(args, _FIELDS_KEY, None) or {}
    hints = _hints()
    for name, default in known.items():
        f, flag = _field(name)
        raw = getattr(args, _RAW_PREFIX + name, None)
        if raw is True:  # a switch given on the command line
            setattr(args, name, flag.sets)
        elif isinstance(raw, str):
            setattr(args, name, _parse(f, flag, hints[name], raw, source=flag.name))
        elif flag.env in os.environ:
            setattr(args, name, _parse(f, flag, hints[name], os.environ[flag.env], source=flag.env))
        else:
            setattr(args, name, default)


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the setting flags of `args` (others at their defaults) and `overrides`, validated."""
    resolve_setting_flags(args)
    known: dict[str, object] = getattr(args, _FIELDS_KEY, None) or {}
    values: dict[str, Any] = {name: getattr(args, name) for name in known}
    values.update(overrides)
    settings = Settings(**values)
    settings.validate()
    return settings
