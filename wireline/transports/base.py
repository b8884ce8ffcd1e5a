"""What a base transport is to a stack: a recipe (a *spec*) that builds real transports on demand.

A stack does not hold transports; it holds a spec and asks it for a transport of the flavour and
mode it needs, once per pool (see :mod:`wireline.transports._pools`). Third parties add base
transports by subclassing :class:`TransportSpec` and registering the class in the
``wireline.transports`` entry-point group.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self, runtime_checkable

from wireline.middleware.base import _settings_from_init
from wireline.redaction import redact_value

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["OpenConnection", "ReportsConnections", "Route", "TransportSpec"]


@dataclass(frozen=True, repr=False)
class Route:
    """Base-transport settings that differ for some requests: a proxy, TLS settings.

    A layer that routes (``ProxyRouter``) puts a ``Route`` in
    ``request.extensions["wireline.route"]``; the stack applies it to *its own* base spec with
    :meth:`TransportSpec.replace` and keeps one pool per distinct route. Routes are values: equal
    routes share a pool, so make them once (not per request) when their settings hold objects
    compared by identity, such as an ``ssl.SSLContext``.

    Attributes:
        name: A label for logs, spans and ``wireline explain`` (never holds credentials).
        settings: ``(name, value)`` pairs passed to the base spec's ``replace()``.
    """

    name: str
    settings: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, name: str, **settings: Any) -> Route:
        """``Route.of("corp-proxy", proxy="http://proxy.corp:3128")``."""
        return cls(name, tuple(sorted(settings.items())))

    def __repr__(self) -> str:
        # Settings hold proxy URLs with credentials: shown redacted, like every setting.
        shown = "".join(f", {key}={redact_value(value, name=key)!r}" for key, value in self.settings)
        return f"Route.of({self.name!r}{shown})"


@dataclass(frozen=True, slots=True)
class OpenConnection:
    """One connection a base transport holds open.

    ``Stack.connections()`` lists them; Tracing's ``http.client.open_connections`` metric counts them.

    Attributes:
        scheme: ``"http"`` or ``"https"`` of the origin the connection serves.
        host: The origin's host (the target, not a proxy in between).
        port: The origin's port, defaults filled in (443, 80).
        state: ``"active"`` while it serves a request (or is being set up), ``"idle"`` in the pool.
        http_version: ``"1.1"``, ``"2"``... when known.
    """

    scheme: str
    host: str
    port: int
    state: Literal["active", "idle"]
    http_version: str | None = None


@runtime_checkable
class ReportsConnections(Protocol):
    """**Protocol:** a built transport that lists the connections it holds open.

    A base transport offers it by giving the transports it builds this one method (or by
    overriding :meth:`TransportSpec.open_connections`). It is called from a metrics thread while
    requests run on others: read a snapshot, never block, never raise, hold no lock for long.
    """

    def open_connections(self) -> Iterable[OpenConnection]:
        """The connections open right now."""
        ...


class TransportSpec(ABC):
    """Base class of base-transport specs.

    Subclasses implement :meth:`build`; they may override :meth:`unsupported` to refuse a flavour
    or mode they cannot serve (checked when a stack builds a transport or client, with the reason
    in the error), and :meth:`explain` for ``wireline explain``.

    Specs are immutable; :meth:`replace` derives a changed copy (the stack uses it to apply a
    :class:`Route`). A stack keeps one pool per spec and route.
    """

    #: The name shown in reprs and used in config (``{"use": "http"}``).
    name: ClassVar[str] = "transport"

    @abstractmethod
    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        """A new transport of ``flavor`` (``BaseTransport``, or ``AsyncBaseTransport`` if ``asynchronous``)."""

    def unsupported(self, flavor: str, *, asynchronous: bool) -> str | None:
        """Why this spec cannot build for ``flavor`` and mode, or ``None`` when it can."""
        return None

    def replace(self, **changes: Any) -> Self:
        """A copy with some settings changed (through the constructor, so they are validated)."""
        return type(self)(**{**_settings_from_init(self, with_defaults=True), **changes})

    def settings(self) -> dict[str, Any]:
        """The settings shown by ``repr``: constructor arguments that differ from their defaults."""
        return _settings_from_init(self)

    def explain(self, url: str) -> Iterator[str]:
        """Lines saying what this transport would do for ``url``."""
        yield f"base transport: {self!r}"

    def open_connections(self, transport: Any) -> Iterable[OpenConnection]:
        """The connections ``transport`` (one this spec built) holds open; read-only and cheap.

        By default, what the transport itself reports through :class:`ReportsConnections`, and
        nothing for transports that do not. Called from a metrics thread: never raise.
        """
        if isinstance(transport, ReportsConnections):
            return transport.open_connections()
        return ()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={redact_value(value, name=name)!r}" for name, value in self.settings().items())
        return f"{type(self).__name__}({shown})"
