"""Compiling a stack's layers into one call per mode: the sync and async shells.

Each layer becomes a closure around the next, first listed outermost. What a layer costs depends
on what it overrides, so each gets the smallest shell that does its work:

- hooks only: a plain call to ``on_request`` and/or ``on_response`` around the next call;
- a flow (``handle``): a small driver that runs the generator, doing the I/O it yields for.

The sync and async shells are the only code written twice, and they differ only by ``await``;
the decisions live in the middleware (I/O-free) and in :func:`_flow_result` / :func:`_check_command`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from wireline import _clock
from wireline.middleware.base import Close, Middleware, Read, Sleep, overrides

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["AsyncCall", "SyncCall", "compile_async", "compile_sync", "drive_async", "drive_sync"]

SyncCall = Callable[[Any], Any]
AsyncCall = Callable[[Any], Awaitable[Any]]


def compile_sync(layers: Sequence[Middleware], innermost: SyncCall, flavor: Flavor) -> SyncCall:
    """The sync chain: calling the result sends a request through every layer to ``innermost``."""
    call = innermost
    for middleware in reversed(layers):
        if overrides(middleware, "handle"):
            call = _sync_flow_layer(middleware, call, flavor)
        elif overrides(middleware, "on_request") or overrides(middleware, "on_response"):
            call = _sync_hook_layer(middleware, call, flavor)
    return call


def compile_async(layers: Sequence[Middleware], innermost: AsyncCall, flavor: Flavor) -> AsyncCall:
    """The async chain: awaiting the result sends a request through every layer to ``innermost``."""
    call = innermost
    for middleware in reversed(layers):
        if overrides(middleware, "handle"):
            call = _async_flow_layer(middleware, call, flavor)
        elif overrides(middleware, "on_request") or overrides(middleware, "on_response"):
            call = _async_hook_layer(middleware, call, flavor)
    return call


# -- hooks --------------------------------------------------------------------------------


def _sync_hook_layer(middleware: Middleware, call_next: SyncCall, flavor: Flavor) -> SyncCall:
    on_request = middleware.on_request if overrides(middleware, "on_request") else None
    on_response = middleware.on_response if overrides(middleware, "on_response") else None
    response_class = flavor.response_class

    if on_response is None:

        def request_hook(request: Any) -> Any:
            out = on_request(request)  # type: ignore[misc] # not None: a layer with one hook has on_request
            if out is None:
                return call_next(request)
            if isinstance(out, response_class):
                return out
            return call_next(out)

        return request_hook

    def hooks(request: Any) -> Any:
        if on_request is not None:
            out = on_request(request)
            if out is not None:
                if isinstance(out, response_class):
                    return out
                request = out
        response = call_next(request)
        replaced = on_response(request, response)
        return response if replaced is None else replaced

    return hooks


def _async_hook_layer(middleware: Middleware, call_next: AsyncCall, flavor: Flavor) -> AsyncCall:
    on_request = middleware.on_request if overrides(middleware, "on_request") else None
    on_response = middleware.on_response if overrides(middleware, "on_response") else None
    response_class = flavor.response_class

    if on_response is None:

        async def request_hook(request: Any) -> Any:
            out = on_request(request)  # type: ignore[misc] # not None: a layer with one hook has on_request
            if out is None:
                return await call_next(request)
            if isinstance(out, response_class):
                return out
            return await call_next(out)

        return request_hook

    async def hooks(request: Any) -> Any:
        if on_request is not None:
            out = on_request(request)
            if out is not None:
                if isinstance(out, response_class):
                    return out
                request = out
        response = await call_next(request)
        replaced = on_response(request, response)
        return response if replaced is None else replaced

    return hooks


# -- flows --------------------------------------------------------------------------------


def _sync_flow_layer(middleware: Middleware, call_next: SyncCall, flavor: Flavor) -> SyncCall:
    handle = middleware.handle

    def flow_layer(request: Any) -> Any:
        return drive_sync(handle(request), call_next, flavor, middleware)

    return flow_layer


def _async_flow_layer(middleware: Middleware, call_next: AsyncCall, flavor: Flavor) -> AsyncCall:
    handle = middleware.handle

    async def flow_layer(request: Any) -> Any:
        return await drive_async(handle(request), call_next, flavor, middleware)

    return flow_layer


def drive_sync(flow: Any, call_next: SyncCall, flavor: Flavor, owner: object) -> Any:
    """Run a flow to its end in a sync chain, doing the I/O it yields for."""
    received: list[Any] = []
    result = None
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                command = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                result = _flow_result(stop.value, flavor, owner)
                return result
            value = error = None
            try:
                kind = command.__class__
                if kind is Sleep:
                    _clock.sleep(command.seconds)
                elif kind is Close:
                    command.response.close()
                elif kind is Read:
                    value = command.response.read()
                else:
                    _check_command(command, flavor, owner)
                    value = call_next(command)
                    received.append(value)
            except BaseException as exc:  # noqa: BLE001 - the flow decides; cancellation too, so its cleanup runs
                error = exc
    finally:
        for response in _left_open(received, result):
            response.close()


async def drive_async(flow: Any, call_next: AsyncCall, flavor: Flavor, owner: object) -> Any:
    """Run a flow to its end in an async chain, doing the I/O it yields for."""
    received: list[Any] = []
    result = None
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                command = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                result = _flow_result(stop.value, flavor, owner)
                return result
            value = error = None
            try:
                kind = command.__class__
                if kind is Sleep:
                    await _clock.async_sleep(command.seconds)
                elif kind is Close:
                    await command.response.aclose()
                elif kind is Read:
                    value = await command.response.aread()
                else:
                    _check_command(command, flavor, owner)
                    value = await call_next(command)
                    received.append(value)
            except BaseException as exc:  # noqa: BLE001 - as in drive_sync
                error = exc
    finally:
        for response in _left_open(received, result):
            await response.aclose()


def _left_open(received: list[Any], result: Any) -> list[Any]:
    """Responses a flow received and dropped without closing (its result and its stream excluded)."""
    if not received:
        return received
    kept_stream = getattr(result, "stream", None)
    return [r for r in received if r is not result and not r.is_closed and r.stream is not kept_stream]


def _check_command(command: object, flavor: Flavor, owner: object) -> None:
    if not isinstance(command, flavor.request_class):
        msg = (
            f"{owner!r} yielded {command!r}; a flow yields the request to send "
            f"(an {flavor.name}.Request, e.g. `response = yield request`), or Sleep, Close or Read"
        )
        raise TypeError(msg)


def _flow_result(value: object, flavor: Flavor, owner: object) -> object:
    if not isinstance(value, flavor.response_class):
        msg = (
            f"{owner!r} returned {value!r} from handle(); a flow must return the response "
            f"(an {flavor.name}.Response), e.g. `response = yield request` then `return response`"
        )
        raise TypeError(msg)
    return value
