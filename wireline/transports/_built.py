"""The transports a stack hands out: real ``BaseTransport`` / ``AsyncBaseTransport`` objects.

Each is made per flavour as a subclass of that flavour's base class, so ``isinstance`` checks in
httpx, httpx2 and the SDKs pass, and it works in ``Client(transport=...)``, in ``mounts=`` and under
other people's wrappers. It holds the compiled chain; the pools belong to the stack, so closing
one of these (as every client does on ``close()``) leaves the pools for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wireline.extensions import ASYNC

if TYPE_CHECKING:
    from wireline._flavors import Flavor
    from wireline.transports._chain import AsyncCall, SyncCall

__all__ = ["async_transport_class", "sync_transport_class"]


class SyncStackTransport:
    """A sync transport that sends each request through a stack's chain."""

    def __init__(self, call: SyncCall, description: str, extensions: Mapping[str, Any] | None = None) -> None:
        self._call = call
        self._description = description
        self._extensions = tuple((extensions or {}).items())
        if not self._extensions:
            # Nothing to add per request: let callers reach the chain without a hop through here.
            self.handle_request = call  # type: ignore[method-assign,assignment]

    def handle_request(self, request: Any) -> Any:
        extensions = request.extensions
        for key, value in self._extensions:
            if key not in extensions:
                extensions[key] = value
        return self._call(request)

    def close(self) -> None:
        """Does not close the pools: they are the stack's, shared with its other clients."""

    def __repr__(self) -> str:
        return f"<wireline sync transport: {self._description}>"


class AsyncStackTransport:
    """An async transport that sends each request through a stack's chain."""

    def __init__(self, call: AsyncCall, description: str, extensions: Mapping[str, Any] | None = None) -> None:
        self._call = call
        self._description = description
        self._extensions = tuple((extensions or {}).items())

    async def handle_async_request(self, request: Any) -> Any:
        extensions = request.extensions
        extensions[ASYNC] = True
        for key, value in self._extensions:
            if key not in extensions:
                extensions[key] = value
        return await self._call(request)

    async def aclose(self) -> None:
        """Does not close the pools: they are the stack's, shared with its other clients."""

    def __repr__(self) -> str:
        return f"<wireline async transport: {self._description}>"


def sync_transport_class(flavor: Flavor) -> type[SyncStackTransport]:
    """``SyncStackTransport`` as a subclass of ``flavor``'s ``BaseTransport``."""
    return flavor.derived("SyncStackTransport", _make_sync)


def async_transport_class(flavor: Flavor) -> type[AsyncStackTransport]:
    """``AsyncStackTransport`` as a subclass of ``flavor``'s ``AsyncBaseTransport``."""
    return flavor.derived("AsyncStackTransport", _make_async)


def _make_sync(flavor: Flavor) -> type:
    return type(
        "StackTransport", (SyncStackTransport, flavor.http.BaseTransport), {"__module__": "wireline.transports"}
    )


def _make_async(flavor: Flavor) -> type:
    return type(
        "AsyncStackTransport",
        (AsyncStackTransport, flavor.http.AsyncBaseTransport),
        {"__module__": "wireline.transports"},
    )
