"""Stacks from configuration: ``Stack.from_config(mapping)`` and ``wireline.load(path)``.

The shape (TOML shown; a mapping of the same shape works with ``from_config``)::

    [transport]                 # optional; {"use": "http"} by default
    use = "http"
    http2 = true
    verify = "/etc/ssl/corp-ca.pem"
    limits = { max_connections = 200 }

    [[middleware]]              # outermost first
    use = "logging"

    [[middleware]]
    use = "retry"
    attempts = 5

``use`` is a name registered in the entry-point group (``wireline plugins`` lists them) or
``"package.module:attribute"``; the other keys are that class's constructor arguments, checked
against its type annotations. A middleware with no settings may be written as its name alone:
``middleware = ["logging", {use = "retry", attempts = 5}]``.

In a ``pyproject.toml`` the same tables sit under ``[tool.wireline]``.

Every problem raises one :class:`~wireline.ConfigError` naming the path into the config
(``middleware[1].attempts``), the value given and what was expected.
"""

from __future__ import annotations

import inspect
import os
import tomllib
import types
import typing
from collections import abc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from wireline.errors import ConfigError, join_key
from wireline.registry import registry

if TYPE_CHECKING:
    from wireline.stack import Stack

__all__ = ["build_from_settings", "load", "stack_from_config"]

_TOP_LEVEL_KEYS = ("transport", "middleware")


def load(path: str | os.PathLike[str]) -> Stack:
    """A stack from a TOML file: a ``wireline.toml``, or a ``pyproject.toml``'s ``[tool.wireline]``.

    Raises:
        ConfigError: The file is missing, is not TOML, or describes an unusable stack; the
            message starts with the file's path.
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("", source, f"a readable TOML file ({exc.strerror or exc})", source=source) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", str(exc), "valid TOML", source=source) from None
    if Path(source).name == "pyproject.toml" or ("tool" in document and "wireline" not in document):
        table = document.get("tool", {}).get("wireline")
        if not isinstance(table, dict):
            raise ConfigError("tool.wireline", table, "a [tool.wireline] table", source=source)
        return stack_from_config(table, source=source, prefix="tool.wireline")
    return stack_from_config(document, source=source)


def stack_from_config(config: Mapping[str, Any], *, source: str | None = None, prefix: str = "") -> Stack:
    """A stack from a mapping of the documented shape (see the module docs)."""
    from wireline.stack import Stack

    try:
        _check_top_level(config)
        transport = _transport(config.get("transport"))
        layers = _middleware(config.get("middleware", []))
        return Stack(*layers, transport=transport)
    except ConfigError as exc:
        raise exc.at(prefix, source=source) if (prefix or source) else exc from None


def _check_top_level(config: Any) -> None:
    if not isinstance(config, Mapping):
        raise ConfigError("", config, "a mapping with 'transport' and/or 'middleware'")
    for key in config:
        if key not in _TOP_LEVEL_KEYS:
            raise ConfigError(str(key), config[key], f"only the keys {', '.join(_TOP_LEVEL_KEYS)} at the top level")


def _transport(entry: Any) -> Any:
    if entry is None:
        return None
    if isinstance(entry, str):
        entry = {"use": entry}
    return _build_entry("transports", entry, "transport", default_use="http")


def _middleware(entries: Any) -> list[Any]:
    if not isinstance(entries, list):
        raise ConfigError("middleware", entries, "a list of middleware tables, outermost first")
    layers = []
    for index, entry in enumerate(entries):
        table = {"use": entry} if isinstance(entry, str) else entry
        layers.append(_build_entry("middleware", table, f"middleware[{index}]"))
    return layers


def _build_entry(group: str, entry: Any, path: str, *, default_use: str | None = None) -> Any:
    if not isinstance(entry, Mapping):
        raise ConfigError(path, entry, "a table with 'use' (a registered name) and its settings")
    use = entry.get("use", default_use)
    if not isinstance(use, str) or not use:
        raise ConfigError(
            join_key(path, "use"), use, "a registered name (see `wireline plugins`) or 'module:attribute'"
        )
    try:
        factory = registry.load(group, use, key="use")
    except ConfigError as exc:
        raise exc.at(path) from None
    settings = {key: value for key, value in entry.items() if key != "use"}
    return build_from_settings(factory, settings, path=path)


def build_from_settings(factory: Callable[..., Any], settings: Mapping[str, Any], *, path: str = "") -> Any:
    """Call ``factory`` with ``settings``, checked against its signature and annotations first.

    Unknown keys, missing required keys and values of the wrong type are refused with the
    path, the value and what was expected; so are the factory's own errors.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    kwargs: dict[str, Any] = {}
    if signature is not None:
        parameters = {
            name: parameter
            for name, parameter in signature.parameters.items()
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY) and name != "self"
        }
        takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        hints = _type_hints(factory)
        for key, value in settings.items():
            if not isinstance(key, str) or (key not in parameters and not takes_any):
                accepted = ", ".join(parameters) or "none"
                raise ConfigError(
                    join_key(path, str(key)), value, f"a setting of {_name(factory)} (accepted: {accepted})"
                )
            hint = hints.get(key, Any)
            kwargs[key] = coerce(value, hint, join_key(path, key))
        for name, parameter in parameters.items():
            if parameter.default is parameter.empty and name not in kwargs:
                raise ConfigError(join_key(path, name), None, f"a value: {_name(factory)} requires {name!r}")
    else:
        kwargs = dict(settings)
    try:
        return factory(**kwargs)
    except ConfigError as exc:
        raise exc.at(path) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(path, dict(settings), f"settings {_name(factory)} accepts ({exc})") from None


# -- checking values against annotations ---------------------------------------------------


def coerce(value: Any, hint: Any, path: str) -> Any:
    """``value`` checked (and converted where TOML is narrower) against the annotation ``hint``."""
    try:
        ok, result = _try(value, hint)
    except ConfigError as exc:  # from a class's own coerce(), about a key inside the value
        raise exc.at(path) from None
    if not ok:
        raise ConfigError(path, value, describe(hint))
    return result


def _try(value: Any, hint: Any) -> tuple[bool, Any]:  # noqa: C901, PLR0911, PLR0912 - a branch per kind of annotation
    if hint is Any or hint is object:
        return True, value
    origin = get_origin(hint)
    args = get_args(hint)
    if origin in (Union, types.UnionType):
        for option in args:
            ok, result = _try(value, option)
            if ok:
                return True, result
        return False, None
    if origin is Literal:
        return (value in args and not (isinstance(value, bool) and True not in args and False not in args)), value
    if hint is type(None):
        return value is None, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else None
    if hint is str:
        return isinstance(value, str), value
    if origin in (list, tuple, set, frozenset) or origin in _SEQUENCE_ORIGINS:
        if not isinstance(value, (list, tuple)):
            return False, None
        item_hint = args[0] if args and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)) else Any  # noqa: PLR2004
        items = []
        for item in value:
            ok, converted = _try(item, item_hint)
            if not ok:
                return False, None
            items.append(converted)
        return True, (tuple(items) if origin is tuple else items)
    if origin is dict or origin in _MAPPING_ORIGINS:
        if not isinstance(value, Mapping):
            return False, None
        value_hint = args[1] if len(args) == 2 else Any  # noqa: PLR2004
        converted_map = {}
        for key, item in value.items():
            ok, converted = _try(item, value_hint)
            if not ok or not isinstance(key, str):
                return False, None
            converted_map[key] = converted
        return True, converted_map
    if origin is os.PathLike or hint is os.PathLike:
        return isinstance(value, (str, os.PathLike)), value
    if inspect.isclass(hint):
        if isinstance(value, hint):
            return True, value
        coerce_method = getattr(hint, "coerce", None)
        if coerce_method is not None and isinstance(value, Mapping):
            return True, coerce_method(value)  # its own ConfigError names the inner key
        return False, None
    return True, value  # an annotation we cannot check (a Protocol, a Callable): the factory decides


def describe(hint: Any) -> str:  # noqa: C901, PLR0911 - one phrase per kind of annotation
    """An annotation in words: ``int | None`` -> ``"a whole number or nothing"``."""
    origin = get_origin(hint)
    args = get_args(hint)
    if hint is Any or hint is object:
        return "any value"
    if origin in (Union, types.UnionType):
        return " or ".join(dict.fromkeys(describe(option) for option in args))
    if origin is Literal:
        return "one of " + ", ".join(repr(option) for option in args)
    if hint is type(None):
        return "nothing (null)"
    if hint is bool:
        return "true or false"
    if hint is int:
        return "a whole number"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if origin in (list, tuple, set, frozenset) or origin in _SEQUENCE_ORIGINS:
        return f"a list of {_plural(describe(args[0]))}" if args else "a list"
    if origin is dict or origin in _MAPPING_ORIGINS:
        return f"a table of {_plural(describe(args[1]))}" if len(args) == 2 else "a table"  # noqa: PLR2004
    if origin is os.PathLike or hint is os.PathLike:
        return "a path"
    if inspect.isclass(hint):
        return f"a {hint.__name__}" + (" (or a table of its settings)" if hasattr(hint, "coerce") else "")
    return str(hint)


# What get_origin() gives for the abstract container annotations (typing's aliases included).
_SEQUENCE_ORIGINS = {abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection, abc.Set}
_MAPPING_ORIGINS = {abc.Mapping, abc.MutableMapping}


def _plural(phrase: str) -> str:
    for article in ("a ", "an "):
        if phrase.startswith(article):
            rest = phrase[len(article) :]
            word, _, tail = rest.partition(" ")
            return f"{word}s {tail}".rstrip() if not word.endswith("s") else rest
    return phrase


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:  # noqa: BLE001 - annotations naming TYPE_CHECKING-only names; check what resolves
        hints: dict[str, Any] = {}
        namespace = getattr(inspect.getmodule(target), "__dict__", {})
        for name, annotation in getattr(target, "__annotations__", {}).items():
            try:
                hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation  # noqa: S307
            except Exception:  # noqa: BLE001
                hints[name] = Any
        return hints


def _name(factory: Callable[..., Any]) -> str:
    return getattr(factory, "__qualname__", None) or getattr(factory, "__name__", None) or repr(factory)
