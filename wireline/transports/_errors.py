"""Raising a backend's errors as the flavour's own exception types.

SDKs classify failures by httpx's (or httpx2's) exception classes: ``ConnectError`` and
``ConnectTimeout`` are safe to retry, ``ReadTimeout`` is a timeout, ``RemoteProtocolError`` a broken
peer. A base transport that is not the flavour's own pool must raise those same classes, so every
backend maps its errors to a *name* from this list and :func:`flavor_error` makes the instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["TransportErrorName", "core_error_name", "flavor_error"]

#: The transport exception classes httpx and httpx2 both define (httpcore's names, too).
TransportErrorName: TypeAlias = Literal[
    "ConnectError",
    "ConnectTimeout",
    "LocalProtocolError",
    "NetworkError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "TimeoutException",
    "TransportError",
    "UnsupportedProtocol",
    "WriteError",
    "WriteTimeout",
]

_NAMES = frozenset(TransportErrorName.__args__)  # type: ignore[attr-defined]

# httpcore / httpcore2 exception class -> the name of the httpx class it maps to (or None).
_core_names: dict[type[BaseException], str | None] = {}


def flavor_error(flavor: Flavor, name: TransportErrorName, message: str, request: Any = None) -> Exception:
    """An instance of ``flavor``'s exception class ``name`` (``httpx.ReadTimeout``...)."""
    cls = getattr(flavor.http, name)
    error: Exception = cls(message, request=request) if request is not None else cls(message)
    return error


def core_error_name(exc: BaseException) -> str | None:
    """The httpx exception name for an httpcore / httpcore2 exception, ``None`` for anything else.

    The core packages' classes have the same names and hierarchy as the flavours' transport
    errors (this is how httpx maps them itself), so the most specific class name in the MRO that
    httpx also defines is the answer.
    """
    cls = type(exc)
    try:
        return _core_names[cls]
    except KeyError:
        pass
    name = None
    for base in cls.__mro__:
        if base.__module__.partition(".")[0] in ("httpcore", "httpcore2") and base.__name__ in _NAMES:
            name = base.__name__
            break
    _core_names[cls] = name
    return name
