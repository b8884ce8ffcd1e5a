"""httpx and httpx2: the two HTTP flavours, behind one small interface.

httpx2 (Pydantic's continuation of httpx) has the same transport API as httpx, but its classes
are different classes: an ``httpx.Client`` is not an ``httpx2.Client``. This is the only module
that imports either package; everything else asks it for the flavour it needs, by name or from
an object of that flavour. Packages are imported on first use, so an application that only uses
httpx never imports httpx2.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, TypeAlias

from wireline.errors import ConfigError, MissingDependencyError

__all__ = ["FLAVORS", "Flavor", "FlavorName", "flavor_of", "get_flavor"]

FlavorName: TypeAlias = Literal["httpx", "httpx2"]

#: The flavour names, default first.
FLAVORS: tuple[FlavorName, ...] = ("httpx", "httpx2")

_CORE_PACKAGE = {"httpx": "httpcore", "httpx2": "httpcore2"}


@dataclass(frozen=True, eq=False)
class Flavor:
    """One HTTP flavour: its package, its core package, and wireline's classes built for it.

    Attributes:
        name: ``"httpx"`` or ``"httpx2"``.
        http: The package (``httpx`` or ``httpx2``).
        core: Its connection-pool package (``httpcore`` or ``httpcore2``).
    """

    name: FlavorName
    http: ModuleType
    core: ModuleType
    # Classes made for this flavour on first use (see :meth:`derived`), keyed by the recipe's name.
    _derived: dict[str, type] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def request_class(self) -> type[Any]:
        return self.http.Request  # type: ignore[no-any-return]

    @property
    def response_class(self) -> type[Any]:
        return self.http.Response  # type: ignore[no-any-return]

    def derived(self, key: str, make: Any) -> type[Any]:
        """A class made once per flavour by ``make(flavor)``.

        For wrappers that must subclass this flavour's ``BaseTransport`` (or byte stream) to be
        accepted where one is expected.
        """
        cls = self._derived.get(key)
        if cls is None:
            with self._lock:
                cls = self._derived.get(key)
                if cls is None:
                    cls = make(self)
                    self._derived[key] = cls
        return cls

    def __repr__(self) -> str:
        return f"<Flavor {self.name}>"


_flavors: dict[str, Flavor] = {}
_flavors_lock = threading.Lock()
# Request and Response classes (and subclasses seen so far) -> their flavour.
_by_type: dict[type, Flavor] = {}


def get_flavor(name: str) -> Flavor:
    """The flavour called ``name``, importing its package on first use.

    Raises:
        ConfigError: ``name`` is not a flavour.
        MissingDependencyError: the flavour's package is not installed (names the extra).
    """
    flavor = _flavors.get(name)
    if flavor is not None:
        return flavor
    if name not in _CORE_PACKAGE:
        raise ConfigError("flavor", name, f"one of {', '.join(map(repr, FLAVORS))}")
    with _flavors_lock:
        flavor = _flavors.get(name)
        if flavor is None:
            try:
                http = importlib.import_module(name)
                core = importlib.import_module(_CORE_PACKAGE[name])
            except ImportError as exc:
                missing = exc.name or name
                raise MissingDependencyError(missing, name, f"the {name!r} flavour") from exc
            flavor = Flavor(name=name, http=http, core=core)  # type: ignore[arg-type]
            _by_type[http.Request] = flavor
            _by_type[http.Response] = flavor
            _flavors[name] = flavor
    return flavor


def flavor_of(message: object) -> Flavor:
    """The flavour of a request or response object (``httpx.Request``, ``httpx2.Response``...)."""
    cls = type(message)
    flavor = _by_type.get(cls)
    if flavor is not None:
        return flavor
    module = cls.__module__.partition(".")[0]
    for base in cls.__mro__:
        root = base.__module__.partition(".")[0]
        if root in _CORE_PACKAGE:
            module = root
            break
    if module not in _CORE_PACKAGE:
        raise TypeError(f"expected an httpx or httpx2 Request or Response, got {cls.__module__}.{cls.__qualname__}")
    flavor = get_flavor(module)
    _by_type[cls] = flavor
    return flavor
