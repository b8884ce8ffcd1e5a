"""The stack's connection pools: one per flavour, mode, event loop, and base-transport spec.

- Every client and transport built from one stack sends through the same pools, so they share
  connections; closing a client (SDKs close the client they were given) leaves the pools open.
  The stack closes them: ``stack.close()`` / ``await stack.aclose()``.
- An async pool belongs to the event loop that opened it: asyncio connections cannot move between
  loops, and an httpx ``AsyncClient`` reused after ``asyncio.run`` returns fails with "Event loop is
  closed". So each loop gets its own pools. When asyncio shuts a loop down (the end of
  ``asyncio.run``), a guard registered with that loop closes its pools, so nothing leaks.
- A request may carry a :class:`~wireline.transports.Route` in ``request.extensions["wireline.route"]``
  (``ProxyRouter`` puts one there): settings to change on the stack's base spec, a proxy say. The
  route's spec is derived once, and each distinct route gets pools of its own.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError, StackClosedError
from wireline.extensions import ROUTE

if TYPE_CHECKING:
    from wireline._flavors import Flavor
    from wireline.transports._chain import AsyncCall, SyncCall
    from wireline.transports.base import OpenConnection, Route, TransportSpec

__all__ = ["Pools", "ensure_supported"]

# (flavour name, route or None for the base spec itself)
PoolKey = tuple[str, "Route | None"]


class _OtherLoop:
    """Stands for "not an asyncio loop" (e.g. trio): those runs share one set of async pools."""


_NOT_ASYNCIO = _OtherLoop()


class _LoopPools:
    """The async pools of one event loop, and the guard that closes them when the loop shuts down."""

    def __init__(self) -> None:
        self.pools: dict[PoolKey, Any] = {}
        self.guard: Any = None
        self.closed = False

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        pools, self.pools = list(self.pools.values()), {}
        for pool in pools:
            await pool.aclose()


async def _close_with_loop(loop_pools: _LoopPools) -> AsyncIterator[None]:
    # Once started, asyncio tracks this async generator and finalizes it in
    # loop.shutdown_asyncgens() - which asyncio.run() and anyio.run() call before closing the loop,
    # while the loop can still run the pools' cleanup.
    try:
        yield
    finally:
        await loop_pools.aclose()


class Pools:
    """Opens pools on first use and closes them all at once (see the module docs)."""

    def __init__(self, spec: TransportSpec) -> None:
        self.spec = spec
        self.closed = False
        self._lock = threading.Lock()
        self._sync: dict[PoolKey, Any] = {}
        self._by_loop: weakref.WeakKeyDictionary[Any, _LoopPools] = weakref.WeakKeyDictionary()
        self._pending_closes: set[asyncio.Task[None]] = set()
        self._route_specs: dict[Route, TransportSpec] = {}

    def check(self, flavor: str, *, asynchronous: bool) -> None:
        """Raise now if the base spec cannot serve this flavour and mode."""
        ensure_supported(self.spec, flavor, asynchronous=asynchronous)

    # -- the innermost calls of a chain ---------------------------------------------------

    def sync_call(self, flavor: Flavor) -> SyncCall:
        """The call at the bottom of a sync chain: the pool for the request's route."""
        default_key: PoolKey = (flavor.name, None)
        pools = self._sync

        def send(request: Any) -> Any:
            route = request.extensions.get(ROUTE)
            key = default_key if route is None else (flavor.name, route)
            pool = pools.get(key)
            if pool is None:
                pool = self._open_sync(key, flavor)
            return pool.handle_request(request)

        return send

    def async_call(self, flavor: Flavor) -> AsyncCall:
        """The call at the bottom of an async chain: this loop's pool for the request's route."""
        default_key: PoolKey = (flavor.name, None)

        async def send(request: Any) -> Any:
            route = request.extensions.get(ROUTE)
            key = default_key if route is None else (flavor.name, route)
            loop_pools = self._by_loop.get(_current_loop())
            pool = None if loop_pools is None else loop_pools.pools.get(key)
            if pool is None:
                pool = await self._open_async(key, flavor)
            return await pool.handle_async_request(request)

        return send

    # -- opening --------------------------------------------------------------------------

    def _open_sync(self, key: PoolKey, flavor: Flavor) -> Any:
        with self._lock:
            self._raise_if_closed()
            pool = self._sync.get(key)
            if pool is None:
                pool = self._sync[key] = _build(self._spec_for(key[1]), flavor, asynchronous=False)
        return pool

    async def _open_async(self, key: PoolKey, flavor: Flavor) -> Any:
        loop = _current_loop()
        start_guard = None
        with self._lock:
            self._raise_if_closed()
            loop_pools = self._by_loop.get(loop)
            if loop_pools is None or loop_pools.closed:
                loop_pools = self._by_loop[loop] = _LoopPools()
                if loop is not _NOT_ASYNCIO:
                    start_guard = loop_pools.guard = _close_with_loop(loop_pools)
            pool = loop_pools.pools.get(key)
            if pool is None:
                pool = loop_pools.pools[key] = _build(self._spec_for(key[1]), flavor, asynchronous=True)
        if start_guard is not None:
            await start_guard.__anext__()
        return pool

    def _spec_for(self, route: Route | None) -> TransportSpec:
        """The base spec with ``route``'s settings applied; derived once per route (under the lock)."""
        if route is None:
            return self.spec
        spec = self._route_specs.get(route)
        if spec is None:
            spec = self._route_specs[route] = self.spec.replace(**dict(route.settings))
        return spec

    def _raise_if_closed(self) -> None:
        if self.closed:
            msg = (
                "this wireline stack is closed (stack.close(), aclose() or the end of its `with` block), "
                "and so are its connection pools; build a new Stack, or close the stack only when every "
                "client built from it is done"
            )
            raise StackClosedError(msg)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync pools now, and the async pools of the running loop (as a task).

        Async pools of other loops close when their loop shuts down, or at ``aclose()`` there.
        """
        sync_pools, current = self._detach()
        for pool in sync_pools:
            pool.close()
        if current is not None:
            task = asyncio.get_running_loop().create_task(self._aclose_loop(current))
            self._pending_closes.add(task)
            task.add_done_callback(self._pending_closes.discard)

    async def aclose(self) -> None:
        """Close the sync pools and this event loop's async pools."""
        sync_pools, current = self._detach()
        for pool in sync_pools:
            pool.close()
        if current is not None:
            await self._aclose_loop(current)

    def _detach(self) -> tuple[list[Any], _LoopPools | None]:
        """Mark closed and take the pools to close: all sync ones, and the running loop's."""
        with self._lock:
            self.closed = True
            # Cleared in place: the chains' innermost calls hold this very dict.
            sync_pools = list(self._sync.values())
            self._sync.clear()
            current = self._by_loop.pop(_current_loop(), None)
        return sync_pools, current

    @staticmethod
    async def _aclose_loop(loop_pools: _LoopPools) -> None:
        await loop_pools.aclose()
        if loop_pools.guard is not None:
            await loop_pools.guard.aclose()

    def connections(self) -> list[OpenConnection]:
        """The connections every pool holds open now (sync pools and every loop's async pools).

        Read-only and safe to call from any thread (a metrics exporter's, typically).
        """
        with self._lock:
            built = [(key, pool) for key, pool in self._sync.items()]
            for loop_pools in list(self._by_loop.values()):
                if not loop_pools.closed:
                    built.extend(loop_pools.pools.items())
            specs = {key[1]: self._spec_for(key[1]) for key, _ in built}
        out: list[OpenConnection] = []
        for (_, route), pool in built:
            try:
                out.extend(specs[route].open_connections(pool))
            except Exception:  # noqa: BLE001, S112 - a third-party spec's report must not break metrics
                continue
        return out

    def describe(self) -> dict[str, int]:
        """How many pools are open, by mode (for reprs and tests)."""
        return {
            "sync": len(self._sync),
            "async": sum(len(lp.pools) for lp in list(self._by_loop.values()) if not lp.closed),
        }


def ensure_supported(spec: TransportSpec, flavor: str, *, asynchronous: bool) -> None:
    """Raise :class:`ConfigError` with the spec's reason if it cannot serve this flavour and mode."""
    reason = spec.unsupported(flavor, asynchronous=asynchronous)
    if reason is not None:
        mode = "async" if asynchronous else "sync"
        raise ConfigError("transport", spec, f"a base transport that serves {mode} {flavor} clients: {reason}")


def _build(spec: TransportSpec, flavor: Flavor, *, asynchronous: bool) -> Any:
    ensure_supported(spec, flavor.name, asynchronous=asynchronous)
    return spec.build(flavor, asynchronous=asynchronous)


def _current_loop() -> Any:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return _NOT_ASYNCIO
