"""``Stack``: an ordered chain of middleware over one pooled base transport.

The first layer listed is the outermost: it sees the request first and the response last.
A stack is immutable (derive changed copies with :meth:`Stack.with_layer`, :meth:`Stack.without`,
:meth:`Stack.replace`, :meth:`Stack.with_transport`) and owns its connection pools: every client
and transport built from it shares them, and only the stack closes them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, overload

from wireline._flavors import get_flavor
from wireline.errors import ConfigError
from wireline.middleware.base import Middleware, as_middleware
from wireline.redaction import redact_url
from wireline.transports._built import async_transport_class, sync_transport_class
from wireline.transports._chain import compile_async, compile_sync
from wireline.transports._pools import Pools, ensure_supported
from wireline.transports.base import OpenConnection, TransportSpec
from wireline.transports.http import HTTPTransport

if TYPE_CHECKING:
    import httpx
    import httpx2

    from wireline.transports._chain import AsyncCall, SyncCall

__all__ = ["Stack"]

# Client settings that would be silently ignored next to a transport, or that would route
# requests around the stack: they belong to the base transport or to ProxyRouter.
_CLIENT_SETTINGS_OF_THE_BASE = {
    "transport": "the stack is the client's transport; build the client from another stack instead",
    "proxy": "a client proxy bypasses the stack; use HTTPTransport(proxy=...) or the ProxyRouter middleware",
    "proxies": "a client proxy bypasses the stack; use HTTPTransport(proxy=...) or the ProxyRouter middleware",
    "verify": "TLS settings belong to the base transport: Stack(transport=HTTPTransport(verify=...))",
    "cert": "TLS settings belong to the base transport: Stack(transport=HTTPTransport(cert=...))",
    "http1": "protocol settings belong to the base transport: Stack(transport=HTTPTransport(http1=...))",
    "http2": "protocol settings belong to the base transport: Stack(transport=HTTPTransport(http2=...))",
    "limits": "pool limits belong to the base transport: Stack(transport=HTTPTransport(limits=...))",
}

Selector = type[Middleware] | Middleware | str | int


class Stack:
    """An ordered chain of middleware over a pooled base transport.

    Args:
        *middleware: The layers, outermost first: ``Middleware`` instances, or generator
            functions (``def layer(request): response = yield request; return response``).
        transport: The base transport spec; :class:`~wireline.transports.HTTPTransport` by default.

    Raises:
        ConfigError: A layer is not a middleware, or the order cannot work (two layers that
            retry, say); the message says which layer and why.
    """

    # __weakref__: layers that observe the stack (Tracing's open-connections metric) hold it weakly.
    __slots__ = ("__weakref__", "_chains", "_layers", "_lock", "_pools", "_spec")

    def __init__(self, *middleware: Middleware | Any, transport: TransportSpec | None = None) -> None:
        self._layers: tuple[Middleware, ...] = tuple(
            as_middleware(layer, key=f"middleware[{index}]") for index, layer in enumerate(middleware)
        )
        if transport is None:
            transport = HTTPTransport()
        elif not isinstance(transport, TransportSpec):
            raise ConfigError(
                "transport",
                transport,
                "a base-transport spec such as wireline.transports.HTTPTransport(...) "
                "(to use a ready transport object, mount stack.transport() beside it instead)",
            )
        self._spec = transport
        self._pools = Pools(transport)
        self._chains: dict[tuple[str, bool], Any] = {}
        self._lock = threading.Lock()
        self._check_order()

    # -- what is in it --------------------------------------------------------------------

    @property
    def layers(self) -> tuple[Middleware, ...]:
        """The middleware, outermost first."""
        return self._layers

    @property
    def base(self) -> TransportSpec:
        """The base-transport spec."""
        return self._spec

    @property
    def owns_retries(self) -> bool:
        """Whether a layer of this stack resends requests (then SDK retries should be off)."""
        return any(layer.owns_retries for layer in self._layers)

    @property
    def propagates_trace_context(self) -> bool:
        """Whether a layer of this stack injects trace context (then SDK propagation should be off)."""
        return any(layer.propagates_trace_context for layer in self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Middleware]:
        return iter(self._layers)

    def __getitem__(self, index: int) -> Middleware:
        return self._layers[index]

    def __repr__(self) -> str:
        parts = [repr(layer) for layer in self._layers]
        parts.append(f"transport={self._spec!r}")
        return f"Stack({', '.join(parts)})"

    def __str__(self) -> str:
        lines = ["Stack (outermost first):"]
        width = len(str(len(self._layers)))
        lines.extend(f"  {index:>{width}}. {layer!r}" for index, layer in enumerate(self._layers, 1))
        if not self._layers:
            lines.append("  (no middleware)")
        lines.append(f"  base: {self._spec!r}")
        return "\n".join(lines)

    def explain(self, url: str) -> list[str]:
        """What each layer and the base transport would do to a request for ``url``, in words."""
        lines = [redact_url(url), "layers, outermost first:"]
        for index, layer in enumerate(self._layers, 1):
            lines.append(f"  {index}. {layer!r}")
            lines.extend(f"     {line}" for line in layer.explain(url))
        if not self._layers:
            lines.append("  (no middleware)")
        lines.extend(self._spec.explain(url))
        return lines

    # -- deriving new stacks --------------------------------------------------------------

    def with_layer(
        self, middleware: Middleware | Any, *, before: Selector | None = None, after: Selector | None = None
    ) -> Stack:
        """A new stack with ``middleware`` added: innermost by default, or next to another layer.

        ``before``/``after`` pick the neighbour by class, instance, class name or index.
        """
        if before is not None and after is not None:
            raise ConfigError("before", before, "either before= or after=, not both")
        layers = list(self._layers)
        if before is not None:
            layers.insert(self._index(before, "before"), middleware)
        elif after is not None:
            layers.insert(self._index(after, "after") + 1, middleware)
        else:
            layers.append(middleware)
        return Stack(*layers, transport=self._spec)

    def without(self, selector: Selector) -> Stack:
        """A new stack without the layer ``selector`` picks (class, instance, class name or index)."""
        layers = list(self._layers)
        del layers[self._index(selector, "without")]
        return Stack(*layers, transport=self._spec)

    def replace(self, selector: Selector, middleware: Middleware | Any) -> Stack:
        """A new stack with the layer ``selector`` picks replaced by ``middleware``, in its place."""
        layers = list(self._layers)
        layers[self._index(selector, "replace")] = middleware
        return Stack(*layers, transport=self._spec)

    def with_transport(self, transport: TransportSpec) -> Stack:
        """A new stack with the same layers over another base transport."""
        return Stack(*self._layers, transport=transport)

    def _index(self, selector: Selector, key: str) -> int:
        if isinstance(selector, int) and not isinstance(selector, bool):
            if -len(self._layers) <= selector < len(self._layers):
                return selector % len(self._layers)
            raise ConfigError(key, selector, f"a layer index from 0 to {len(self._layers) - 1}")
        matches = [index for index, layer in enumerate(self._layers) if _matches(layer, selector)]
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(type(layer).__name__ for layer in self._layers) or "none"
        if not matches:
            raise ConfigError(key, selector, f"a layer of this stack (layers: {names})")
        raise ConfigError(
            key, selector, f"a selector that picks one layer; it picks {len(matches)}: pass the instance or an index"
        )

    # -- building transports and clients ---------------------------------------------------

    @overload
    def transport(
        self, flavor: Literal["httpx"] = "httpx", *, extensions: Mapping[str, Any] | None = None
    ) -> httpx.BaseTransport: ...
    @overload
    def transport(
        self, flavor: Literal["httpx2"], *, extensions: Mapping[str, Any] | None = None
    ) -> httpx2.BaseTransport: ...

    def transport(self, flavor: str = "httpx", *, extensions: Mapping[str, Any] | None = None) -> Any:
        """A sync ``BaseTransport`` of ``flavor`` that sends through this stack.

        Args:
            flavor: ``"httpx"`` or ``"httpx2"``.
            extensions: Entries put in every request's ``extensions`` unless already there
                (provider adapters tag their requests with ``wireline.provider`` this way).
        """
        resolved = get_flavor(flavor)
        call = self._chain(flavor, asynchronous=False)
        return sync_transport_class(resolved)(call, self._describe(flavor), _checked_extensions(extensions))

    @overload
    def async_transport(
        self, flavor: Literal["httpx"] = "httpx", *, extensions: Mapping[str, Any] | None = None
    ) -> httpx.AsyncBaseTransport: ...
    @overload
    def async_transport(
        self, flavor: Literal["httpx2"], *, extensions: Mapping[str, Any] | None = None
    ) -> httpx2.AsyncBaseTransport: ...

    def async_transport(self, flavor: str = "httpx", *, extensions: Mapping[str, Any] | None = None) -> Any:
        """An ``AsyncBaseTransport`` of ``flavor`` that sends through this stack (see :meth:`transport`)."""
        resolved = get_flavor(flavor)
        call = self._chain(flavor, asynchronous=True)
        return async_transport_class(resolved)(call, self._describe(flavor), _checked_extensions(extensions))

    @overload
    def client(
        self, flavor: Literal["httpx"] = "httpx", *, extensions: Mapping[str, Any] | None = None, **client_kwargs: Any
    ) -> httpx.Client: ...
    @overload
    def client(
        self, flavor: Literal["httpx2"], *, extensions: Mapping[str, Any] | None = None, **client_kwargs: Any
    ) -> httpx2.Client: ...

    def client(
        self, flavor: str = "httpx", *, extensions: Mapping[str, Any] | None = None, **client_kwargs: Any
    ) -> Any:
        """A ``Client`` of ``flavor`` whose transport is this stack.

        ``client_kwargs`` go to the client unchanged (``timeout``, ``headers``, ``base_url``,
        ``follow_redirects``, ``event_hooks``...). Settings that belong to the base transport
        (``verify``, ``http2``, ``limits``, ``proxy``...) are refused with a pointer to where they go.
        Closing the client leaves the stack's pools open for its other clients.
        """
        _check_client_kwargs(client_kwargs)
        transport = self.transport(flavor, extensions=extensions)  # type: ignore[call-overload]
        return self._mark_traced(get_flavor(flavor).http.Client(transport=transport, **client_kwargs))

    @overload
    def async_client(
        self, flavor: Literal["httpx"] = "httpx", *, extensions: Mapping[str, Any] | None = None, **client_kwargs: Any
    ) -> httpx.AsyncClient: ...
    @overload
    def async_client(
        self, flavor: Literal["httpx2"], *, extensions: Mapping[str, Any] | None = None, **client_kwargs: Any
    ) -> httpx2.AsyncClient: ...

    def async_client(
        self, flavor: str = "httpx", *, extensions: Mapping[str, Any] | None = None, **client_kwargs: Any
    ) -> Any:
        """An ``AsyncClient`` of ``flavor`` whose transport is this stack (see :meth:`client`)."""
        _check_client_kwargs(client_kwargs)
        transport = self.async_transport(flavor, extensions=extensions)  # type: ignore[call-overload]
        return self._mark_traced(get_flavor(flavor).http.AsyncClient(transport=transport, **client_kwargs))

    def _mark_traced(self, client: Any) -> Any:
        # opentelemetry-instrumentation-httpx's instrument_client() skips a client carrying this flag;
        # when a layer of this stack traces already, wrapping the stack would add a second span per call.
        if any(layer.traces_http for layer in self._layers):
            client._is_instrumented_by_opentelemetry = True  # noqa: SLF001 - the flag contrib reads
        return client

    def _chain(self, flavor: str, *, asynchronous: bool) -> Any:
        key = (flavor, asynchronous)
        chain = self._chains.get(key)
        if chain is None:
            ensure_supported(self._spec, flavor, asynchronous=asynchronous)
            resolved = get_flavor(flavor)
            with self._lock:
                chain = self._chains.get(key)
                if chain is None:
                    if asynchronous:
                        innermost: AsyncCall = self._pools.async_call(resolved)
                        chain = compile_async(self._layers, innermost, resolved)
                    else:
                        sync_innermost: SyncCall = self._pools.sync_call(resolved)
                        chain = compile_sync(self._layers, sync_innermost, resolved)
                    self._chains[key] = chain
        return chain

    def _describe(self, flavor: str) -> str:
        names = " > ".join(type(layer).__name__ for layer in self._layers) or "no middleware"
        return f"{flavor}, {names} > {type(self._spec).__name__}"

    def connections(self) -> list[OpenConnection]:
        """The connections the stack's pools hold open now, each ``active`` or ``idle``.

        Read-only and safe from any thread; Tracing's ``http.client.open_connections`` metric
        reads it. A base transport reports through :class:`~wireline.transports.ReportsConnections`.
        """
        return self._pools.connections()

    # -- closing --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` or :meth:`aclose` was called."""
        return self._pools.closed

    def close(self) -> None:
        """Close the stack's pools. Clients built from it stop working; build a new stack to go on.

        Async pools close with :meth:`aclose` from their event loop, or when that loop shuts
        down (the end of ``asyncio.run``); from inside a running loop, ``close()`` schedules it.
        """
        self._pools.close()

    async def aclose(self) -> None:
        """Close the stack's sync pools and the current event loop's async pools."""
        await self._pools.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, source: str | None = None) -> Stack:
        """A stack from a mapping; names are resolved through the entry-point registry.

        See :mod:`wireline.config` for the shape. Every problem raises one
        :class:`~wireline.ConfigError` naming the path into the config, the value and what was expected.
        """
        from wireline.config import stack_from_config

        return stack_from_config(config, source=source)

    # -- order rules ----------------------------------------------------------------------

    def _check_order(self) -> None:
        retrying: int | None = None
        seen: dict[type[Middleware], int] = {}
        for index, layer in enumerate(self._layers):
            if layer.owns_retries:
                if retrying is not None:
                    raise ConfigError(
                        f"middleware[{index}]",
                        layer,
                        f"one layer that retries, but middleware[{retrying}] ({self._layers[retrying]!r}) retries "
                        "already: two retry owners multiply attempts (3 x 3 = 9 sends); keep one",
                    )
                retrying = index
            cls = type(layer)
            if cls.unique and cls in seen:
                raise ConfigError(
                    f"middleware[{index}]",
                    layer,
                    f"at most one {cls.__name__} per stack; middleware[{seen[cls]}] is one already",
                )
            seen.setdefault(cls, index)
        for index, layer in enumerate(self._layers):
            layer.check(self, index)


def _matches(layer: Middleware, selector: Selector) -> bool:
    if isinstance(selector, Middleware):
        return layer is selector
    if isinstance(selector, str):
        return type(layer).__name__.lower() == selector.lower()
    return isinstance(selector, type) and isinstance(layer, selector)


def _check_client_kwargs(client_kwargs: Mapping[str, Any]) -> None:
    for key, why in _CLIENT_SETTINGS_OF_THE_BASE.items():
        if key in client_kwargs:
            raise ConfigError(f"client({key}=...)", client_kwargs[key], f"no {key}= here: {why}")


def _checked_extensions(extensions: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if extensions is None:
        return None
    if not isinstance(extensions, Mapping):
        raise ConfigError("extensions", extensions, "a mapping of request extensions")
    for key in extensions:
        if not isinstance(key, str):
            raise ConfigError("extensions", key, "string keys (wireline's own start with 'wireline.')")
    return extensions
