"""Compiling a stack's layers into one call per mode: the sync and async shells.

Each layer becomes a closure around the next, first listed outermost. What a layer costs depends
on what it overrides, so each gets the smallest shell that does its work:

- hooks only: a plain call to ``on_request`` and/or ``on_response`` around the next call;
- a flow (``handle``): a small driver that runs the generator, doing the I/O it yields for.

The sync and async shells are the only code written twice, and they differ only by ``await``;
the decisions live in the middleware (I/O-free) and in :func:`_flow_result` / :func:`_check_command`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from wireline import _clock
from wireline.middleware.base import Close, Deliver, Middleware, Read, Sleep, overrides

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["AsyncCall", "ResumableStream", "SyncCall", "compile_async", "compile_sync", "drive_async", "drive_sync"]

SyncCall = Callable[[Any], Any]
AsyncCall = Callable[[Any], Awaitable[Any]]
# What running a flow needs besides the flow: (call_next, flavor, owner).
_Context = tuple[Any, "Flavor", object]


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
    """Run a flow in a sync chain, doing the I/O it yields for, until it returns or delivers."""
    return _sync_driver(lambda _: flow, call_next, flavor, owner)(None)


async def drive_async(flow: Any, call_next: AsyncCall, flavor: Flavor, owner: object) -> Any:
    """Run a flow in an async chain, doing the I/O it yields for, until it returns or delivers."""
    return await _async_driver(lambda _: flow, call_next, flavor, owner)(None)


# A driver runs once per flow layer per request, so it is written for the common case (one request
# sent, its response returned): the layer's call is the driver itself (no extra frame), the
# flavour's classes are resolved once, the response received is kept in a local (a list only when
# a flow sends more than once), and the left-open check is skipped when the flow returns that very
# response. An exception from below is thrown into the flow at once; what the flow then raises or
# returns leaves through the same handlers as a normal return. A flow that delivers is handed
# over to a ResumableStream, which steps it with _run_sync/_run_async if the body fails.


def _sync_driver(handle: Callable[[Any], Any], call_next: SyncCall, flavor: Flavor, owner: object) -> SyncCall:
    request_class, response_class = flavor.request_class, flavor.response_class
    context = (call_next, flavor, owner)

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
                    if kind is request_class or kind not in _COMMANDS:
                        if kind is not request_class:
                            _check_command(command, flavor, owner)
                        value = call_next(command)
                        received = value if received is None else _also(received, value)
                    elif kind is Deliver:
                        _check_delivered(command, flavor, owner)
                        break
                    else:
                        value = _perform_sync(command)
                except BaseException as exc:  # noqa: BLE001 - the flow decides; cancellation too, so its cleanup runs
                    command = flow.throw(exc)
                    continue
                command = send(value)
            result = _hand_over(command, flow, context)
        except StopIteration as stop:
            result = stop.value
            if result.__class__ is not response_class:
                _flow_result(result, flavor, owner)
        finally:
            if received is not result:
                _close_all(_left_open(received, result))
        return result

    return run_flow


def _async_driver(handle: Callable[[Any], Any], call_next: AsyncCall, flavor: Flavor, owner: object) -> AsyncCall:
    request_class, response_class = flavor.request_class, flavor.response_class
    context = (call_next, flavor, owner)

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
                    if kind is request_class or kind not in _COMMANDS:
                        if kind is not request_class:
                            _check_command(command, flavor, owner)
                        value = await call_next(command)
                        received = value if received is None else _also(received, value)
                    elif kind is Deliver:
                        _check_delivered(command, flavor, owner)
                        break
                    else:
                        value = await _perform_async(command)
                except BaseException as exc:  # noqa: BLE001 - as in the sync driver
                    command = flow.throw(exc)
                    continue
                command = send(value)
            result = _hand_over(command, flow, context)
        except StopIteration as stop:
            result = stop.value
            if result.__class__ is not response_class:
                _flow_result(result, flavor, owner)
        finally:
            if received is not result:
                await _aclose_all(_left_open(received, result))
        return result

    return run_flow


_COMMANDS = frozenset({Sleep, Close, Read, Deliver})


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


def _close_all(responses: list[Any]) -> None:
    for response in responses:
        response.close()


async def _aclose_all(responses: list[Any]) -> None:
    for response in responses:
        await response.aclose()


def _also(received: Any, response: Any) -> list[Any]:
    """The responses received so far, ``response`` added (a flow that sends more than once)."""
    return [*received, response] if isinstance(received, list) else [received, response]


def _run_sync(flow: Any, error: BaseException | None, context: _Context, received: list[Any]) -> tuple[bool, Any]:
    """Step a flow, doing its I/O, until it returns ``(True, value)`` or delivers ``(False, Deliver)``.

    ``error`` (if any) is thrown into the flow first: how a body failure reaches a delivering flow.
    ``context`` is ``(call_next, flavor, owner)``; ``received`` collects the responses it got.
    """
    call_next, flavor, owner = context
    value: Any = None
    while True:
        try:
            command = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            return True, stop.value
        value = error = None
        try:
            kind = command.__class__
            if kind is Deliver:
                _check_delivered(command, flavor, owner)
                return False, command
            if kind in _COMMANDS:
                value = _perform_sync(command)
            else:
                _check_command(command, flavor, owner)
                value = call_next(command)
                received.append(value)
        except BaseException as exc:  # noqa: BLE001 - the flow decides; cancellation too, so its cleanup runs
            error = exc


async def _run_async(
    flow: Any, error: BaseException | None, context: _Context, received: list[Any]
) -> tuple[bool, Any]:
    """Step a flow in an async chain (see :func:`_run_sync`)."""
    call_next, flavor, owner = context
    value: Any = None
    while True:
        try:
            command = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            return True, stop.value
        value = error = None
        try:
            kind = command.__class__
            if kind is Deliver:
                _check_delivered(command, flavor, owner)
                return False, command
            if kind in _COMMANDS:
                value = await _perform_async(command)
            else:
                _check_command(command, flavor, owner)
                value = await call_next(command)
                received.append(value)
        except BaseException as exc:  # noqa: BLE001 - as in _run_sync
            error = exc


# -- delivering: the flow stays with the body -----------------------------------------------


def _hand_over(command: Deliver, flow: Any, context: _Context) -> Any:
    """Give ``command.response`` to the caller with its body wrapped in a :class:`ResumableStream`."""
    response = command.response
    cls = context[1].derived("ResumableStream", _resumable_stream_class)
    stream = cls(response, flow, context)
    command._stream = stream  # noqa: SLF001 - the command reads its byte count from here
    response.stream = stream
    return response


class ResumableStream:
    """A delivered response's body: passes chunks up, and brings failures back to the flow.

    The flow that yielded :class:`~wireline.middleware.Deliver` stays suspended while the body is
    read. When reading raises, the failed body is closed and the error is thrown into the flow,
    which runs (doing its I/O in this stream's mode) until it delivers another response — whose
    body this stream goes on with — or raises, or returns (then the original error is raised).
    When the body ends, the flow is closed and the responses it left open are closed.

    Made per flavour as a subclass of that flavour's ``SyncByteStream`` and ``AsyncByteStream``;
    one instance serves one mode (its ``call_next`` is sync or async).
    """

    __slots__ = ("_context", "_delivered", "_flow", "_inner", "_received", "delivered", "ended")

    def __init__(self, response: Any, flow: Any, context: _Context) -> None:
        self._inner = response.stream
        # The responses whose bodies this stream passed on: the first, then a list once resumed.
        # (Lists are made only when a body fails: delivering is on every request's path.)
        self._delivered: Any = response
        self._flow = flow
        self._context = context  # what running the flow again needs: (call_next, flavor, owner)
        self._received: list[Any] | None = None
        self.delivered = 0
        self.ended = False

    # -- sync shell -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                for chunk in self._inner:
                    self.delivered += len(chunk)
                    yield chunk
            except Exception as exc:  # noqa: BLE001 - the flow decides what a failure means
                self._inner = self._resume_sync(exc)
            else:
                if not self.ended:
                    self._end_sync()
                return

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if not self.ended:
                self._end_sync()

    def _resume_sync(self, error: Exception) -> Any:
        _close_quietly(self._inner)
        if self._received is None:
            self._received = []
        try:
            returned, value = _run_sync(self._flow, error, self._context, self._received)
        except BaseException:
            self._end_sync()
            raise
        if returned:
            self._end_sync()
            raise error
        return self._resumed(value)

    def _end_sync(self) -> None:
        if self._end_flow() and self._received:
            for response in self._left_open():
                response.close()

    # -- async shell ----------------------------------------------------------------------

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async for chunk in self._inner:
                    self.delivered += len(chunk)
                    yield chunk
            except Exception as exc:  # noqa: BLE001 - as in __iter__
                self._inner = await self._resume_async(exc)
            else:
                if not self.ended:
                    await self._end_async()
                return

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if not self.ended:
                await self._end_async()

    async def _resume_async(self, error: Exception) -> Any:
        await _aclose_quietly(self._inner)
        if self._received is None:
            self._received = []
        try:
            returned, value = await _run_async(self._flow, error, self._context, self._received)
        except BaseException:
            await self._end_async()
            raise
        if returned:
            await self._end_async()
            raise error
        return self._resumed(value)

    async def _end_async(self) -> None:
        if self._end_flow() and self._received:
            for response in self._left_open():
                await response.aclose()

    # -- shared, I/O-free -----------------------------------------------------------------

    def _resumed(self, command: Deliver) -> Any:
        response = command.response
        delivered = self._delivered if isinstance(self._delivered, list) else [self._delivered]
        if any(response is earlier for earlier in delivered):
            self._end_flow()
            msg = f"{self._context[2]!r} delivered a response whose body failed already; deliver a new one"
            raise TypeError(msg)
        delivered.append(response)
        self._delivered = delivered
        command._stream = self  # noqa: SLF001 - as in _hand_over
        return response.stream

    def _end_flow(self) -> bool:
        """Close the flow once; ``True`` the first time (then its leftovers are to be closed)."""
        if self.ended:
            return False
        self.ended = True
        # The response (whose stream this is) is needed no more: dropping it breaks the cycle
        # response -> stream -> response, so the request's objects go when the caller drops them,
        # not at the garbage collector's next pass.
        self._delivered = None
        self._flow.close()
        return True

    def _left_open(self) -> list[Any]:
        inner = self._inner
        return [r for r in self._received or () if not r.is_closed and r.stream is not inner]


def _resumable_stream_class(flavor: Flavor) -> type[ResumableStream]:
    http = flavor.http
    return type("ResumableStream", (ResumableStream, http.SyncByteStream, http.AsyncByteStream), {"__slots__": ()})


def _close_quietly(stream: Any) -> None:
    # It failed already; the flow hears about that failure, not about closing the remains.
    with contextlib.suppress(Exception):
        stream.close()


async def _aclose_quietly(stream: Any) -> None:
    with contextlib.suppress(Exception):
        await stream.aclose()


def _check_delivered(command: Deliver, flavor: Flavor, owner: object) -> None:
    if not isinstance(command.response, flavor.response_class):
        msg = f"{owner!r} yielded Deliver({command.response!r}); deliver a response (an {flavor.name}.Response)"
        raise TypeError(msg)


def _left_open(received: Any, result: Any) -> list[Any]:
    """Responses a flow received and dropped without closing (its result and its stream excluded).

    ``received`` is one response, a list of them, or ``None``.
    """
    if received is None:
        return []
    responses = received if isinstance(received, list) else [received]
    kept_stream = getattr(result, "stream", None)
    return [r for r in responses if r is not result and not r.is_closed and r.stream is not kept_stream]


def _check_command(command: object, flavor: Flavor, owner: object) -> None:
    if not isinstance(command, flavor.request_class):
        msg = (
            f"{owner!r} yielded {command!r}; a flow yields the request to send "
            f"(an {flavor.name}.Request, e.g. `response = yield request`), or Sleep, Close, Read or Deliver"
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
