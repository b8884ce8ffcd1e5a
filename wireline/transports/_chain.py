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
    return _sync_driver(middleware.handle, call_next, flavor, middleware)


def _async_flow_layer(middleware: Middleware, call_next: AsyncCall, flavor: Flavor) -> AsyncCall:
    return _async_driver(middleware.handle, call_next, flavor, middleware)


def drive_sync(flow: Any, call_next: SyncCall, flavor: Flavor, owner: object) -> Any:
    """Run a flow to its end in a sync chain, doing the I/O it yields for."""
    return _sync_driver(lambda _: flow, call_next, flavor, owner)(None)


async def drive_async(flow: Any, call_next: AsyncCall, flavor: Flavor, owner: object) -> Any:
    """Run a flow to its end in an async chain, doing the I/O it yields for."""
    return await _async_driver(lambda _: flow, call_next, flavor, owner)(None)


# A driver runs once per flow layer per request, so it is written for the common case (one request
# sent, its response returned): the layer's call is the driver itself (no extra frame), the
# flavour's classes are resolved once, the response received is kept in a local (a list only when
# a flow sends more than once), and the left-open check is skipped when the flow returns that very
# response. An exception from below is thrown into the flow at once; what the flow then raises or
# returns leaves through the same handlers as a normal return.


def _sync_driver(handle: Callable[[Any], Any], call_next: SyncCall, flavor: Flavor, owner: object) -> SyncCall:
    request_class, response_class = flavor.request_class, flavor.response_class

    def run_flow(request: Any) -> Any:
        flow = handle(request)
        send = flow.send
        received: Any = None  # the response received, or a list of them once there are several
        result: Any = None
        try:
            command = send(None)
            while True:
                try:
                    kind = command.__class__
                    if kind is not request_class and kind in _COMMANDS:
                        value = _perform_sync(command)
                    else:
                        if kind is not request_class:
                            _check_command(command, flavor, owner)
                        value = call_next(command)
                        received = value if received is None else _also(received, value)
                except BaseException as exc:  # noqa: BLE001 - the flow decides; cancellation too, so its cleanup runs
                    command = flow.throw(exc)
                    continue
                command = send(value)
        except StopIteration as stop:
            result = stop.value
            if result.__class__ is not response_class:
                _flow_result(result, flavor, owner)
            return result
        finally:
            if received is not None and received is not result:
                for response in _left_open(received, result):
                    response.close()

    return run_flow


def _async_driver(handle: Callable[[Any], Any], call_next: AsyncCall, flavor: Flavor, owner: object) -> AsyncCall:
    request_class, response_class = flavor.request_class, flavor.response_class

    async def run_flow(request: Any) -> Any:
        flow = handle(request)
        send = flow.send
        received: Any = None
        result: Any = None
        try:
            command = send(None)
            while True:
                try:
                    kind = command.__class__
                    if kind is not request_class and kind in _COMMANDS:
                        value = await _perform_async(command)
                    else:
                        if kind is not request_class:
                            _check_command(command, flavor, owner)
                        value = await call_next(command)
                        received = value if received is None else _also(received, value)
                except BaseException as exc:  # noqa: BLE001 - as in the sync driver
                    command = flow.throw(exc)
                    continue
                command = send(value)
        except StopIteration as stop:
            result = stop.value
            if result.__class__ is not response_class:
                _flow_result(result, flavor, owner)
            return result
        finally:
            if received is not None and received is not result:
                for response in _left_open(received, result):
                    await response.aclose()

    return run_flow


_COMMANDS = frozenset({Sleep, Close, Read})


def _perform_sync(command: Sleep | Close | Read) -> Any:
    """Do what a flow asked for besides sending: wait, close a response, or read its body."""
    if isinstance(command, Sleep):
        _clock.sleep(command.seconds)
        return None
    if isinstance(command, Close):
        command.response.close()
        return None
    return command.response.read()


async def _perform_async(command: Sleep | Close | Read) -> Any:
    if isinstance(command, Sleep):
        await _clock.async_sleep(command.seconds)
        return None
    if isinstance(command, Close):
        await command.response.aclose()
        return None
    return await command.response.aread()


def _also(received: Any, response: Any) -> list[Any]:
    """The responses received so far, ``response`` added (a flow that sends more than once)."""
    return [*received, response] if isinstance(received, list) else [received, response]


def _left_open(received: Any, result: Any) -> list[Any]:
    """Responses a flow received and dropped without closing (its result and its stream excluded)."""
    responses = received if isinstance(received, list) else [received]
    kept_stream = getattr(result, "stream", None)
    return [r for r in responses if r is not result and not r.is_closed and r.stream is not kept_stream]


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
