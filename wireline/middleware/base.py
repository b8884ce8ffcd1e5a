"""The middleware authoring API: one class serves sync and async clients of both flavours.

A middleware overrides one of two forms:

**Hooks** — plain methods, called in line, for layers that look at or change messages::

    class AddHeader(Middleware):
        def on_request(self, request):
            request.headers["x-team"] = "search"       # change the request in place...
            # ...or return a new request, or return a response to answer without sending

        def on_response(self, request, response):
            observe(response, MyObserver())            # watch the body without buffering it

**A flow** — ``handle`` as a generator, for layers that wrap the call: time it, send it more
than once, wait between attempts, answer by themselves::

    class Twice(Middleware):
        def handle(self, request):
            first = yield request                      # the rest of the chain runs here
            yield Close(first)                         # give its connection back
            yield Sleep(0.1)                           # wireline sleeps (time.sleep or await)
            return (yield request)

The flow never does I/O itself: it yields what it wants done — a request to send, a
:class:`Sleep`, a :class:`Close` or :class:`Read` of a response, a :class:`Deliver` of a response
whose body it wants to stay with — and wireline's sync or async shell does it. That is how one
class serves both kinds of client without a second copy of its logic. An exception from the rest
of the chain is raised at the ``yield``; catch it to retry.

Middleware objects are shared by every request on every thread and event loop: keep per-request
state in flow locals or in ``request.extensions`` (under a prefix of your own).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Final

from wireline.errors import ConfigError
from wireline.redaction import redact_value

if TYPE_CHECKING:
    from wireline.stack import Stack
    from wireline.typing import Flow, Request, Response

__all__ = ["Close", "Deliver", "FunctionMiddleware", "Middleware", "Read", "Sleep", "as_middleware"]


class Close:
    """A command a flow yields to close a response it will not return: ``yield Close(response)``.

    Close every response you drop (a 503 you are about to retry, say) so its connection goes back
    to the pool before the next attempt. Responses a flow received and neither returned nor
    closed are closed for it when it ends, as a safety net.
    """

    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response

    def __repr__(self) -> str:
        return f"Close({self.response!r})"


class Read:
    """A command a flow yields to read a response body in full: ``body = yield Read(response)``.

    The body is buffered (it is also kept on the response, as ``response.read()`` does), so use
    it for small bodies, such as an error payload that decides whether to retry.
    """

    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response

    def __repr__(self) -> str:
        return f"Read({self.response!r})"


class Sleep:
    """A command a flow yields to wait: ``yield Sleep(0.5)``.

    The sync shell calls ``time.sleep``, the async shell awaits ``anyio.sleep`` (asyncio and
    trio). ``wireline.testing.no_sleep()`` records the waits instead of sleeping.
    """

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise ConfigError("seconds", seconds, "a number of seconds >= 0")
        self.seconds: Final = float(seconds)

    def __repr__(self) -> str:
        return f"Sleep({self.seconds!r})"


class Deliver:
    """A command to hand a response up *and stay with its body*: ``yield Deliver(response)``.

    Returning a response ends a flow. Yielding ``Deliver(response)`` instead gives the response to
    the layer above at once and keeps the flow suspended at that ``yield`` while the body is read,
    so the flow can act on a failure that happens *while the body is read* — which a flow that
    has returned cannot. What happens next:

    - The body ends normally (read to the end, or closed by the caller): the flow is closed
      (``GeneratorExit`` at the ``yield``), so its ``finally:`` blocks run.
    - Reading the body raises: the failed body is closed, then the error is raised at the
      ``yield``. :attr:`bytes_delivered` says how many bytes of the body had already passed up
      to the caller. The flow may send the request again (``new = yield request``; ``Sleep``,
      ``Close`` and ``Read`` work as usual) and ``yield Deliver(new)``: the caller's read goes
      on with the new response's body, as if nothing happened. The caller keeps the first
      response's status and headers, so deliver only a response whose body can stand in for the
      first one's. If the flow raises instead, the caller's read raises that error; if it
      returns, the original error is raised.

    ``Retry`` uses it to retry a failure while reading the body as long as no byte has reached
    the caller. Wrapping the body costs about a microsecond per response, so deliver only when
    you may act on a failure.
    """

    __slots__ = ("_stream", "response")

    def __init__(self, response: Response) -> None:
        self.response = response
        self._stream: Any = None

    @property
    def bytes_delivered(self) -> int:
        """Bytes of the body that reached the caller so far (across every delivered response)."""
        stream = self._stream
        return 0 if stream is None else int(stream.delivered)

    def __repr__(self) -> str:
        return f"Deliver({self.response!r})"


class Middleware:
    """Base class of wireline middleware. Override the hooks or ``handle`` (see the module docs).

    Class attributes:
        unique: At most one layer of this class may be in a stack.
        traces_http: The layer makes OpenTelemetry HTTP client spans. Clients a stack with such a
            layer builds are marked as instrumented, so that opentelemetry-instrumentation-httpx's
            ``instrument_client()`` leaves them alone instead of wrapping the whole stack in a
            second span.
    """

    unique: ClassVar[bool] = False
    traces_http: ClassVar[bool] = False

    # -- the two forms --------------------------------------------------------------------

    def on_request(self, request: Request) -> Request | Response | None:
        """Look at or change the request before it goes on.

        Return ``None`` to send ``request`` (changed in place or not), another request to send
        that one instead, or a response to answer without sending anything.
        """
        return None

    def on_response(self, request: Request, response: Response) -> Response | None:
        """Look at the response once its headers are in. Return ``None`` or a replacement."""
        return None

    def handle(self, request: Request) -> Flow:
        """Wrap the call: ``response = yield request`` sends it on; return the response."""
        response = yield request
        return response  # type: ignore[no-any-return]

    # -- what the stack asks of a layer -----------------------------------------------------

    @property
    def owns_retries(self) -> bool:
        """Whether this layer resends requests.

        A stack allows one such layer, and provider adapters turn the SDK's own retries off when
        there is one.
        """
        return False

    @property
    def propagates_trace_context(self) -> bool:
        """Whether this layer writes trace context (``traceparent``...) into the requests it sends.

        Provider adapters then turn an SDK's own propagation off (the Anthropic SDK's), so that
        context is injected once, by the layer closest to the wire.
        """
        return False

    def check(self, stack: Stack, index: int) -> None:
        """Refuse an order that cannot work by raising :class:`~wireline.ConfigError`.

        Called when a stack is built with this layer at ``stack.layers[index]`` (0 is outermost).
        """

    def explain(self, url: str) -> Iterator[str]:
        """Lines saying what this layer would do to a request for ``url`` (``wireline explain``)."""
        return iter(())

    def settings(self) -> dict[str, Any]:
        """The settings shown by ``repr`` (secrets are redacted there, not here).

        The default reads the constructor's parameters back from attributes of the same name
        (or with a leading underscore) and leaves out those still at their default.
        """
        return _settings_from_init(self)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={redact_value(value, name=name)!r}" for name, value in self.settings().items())
        return f"{type(self).__name__}({shown})"


class FunctionMiddleware(Middleware):
    """A flow written as a plain generator function, ``def fn(request): ... yield request ...``.

    ``Stack`` wraps generator functions in this class for you.
    """

    def __init__(self, function: Callable[[Request], Flow]) -> None:
        if not inspect.isgeneratorfunction(function):
            raise ConfigError(
                "middleware",
                function,
                "a Middleware instance or a generator function (one that does `response = yield request`)",
            )
        self.function = function

    def handle(self, request: Request) -> Flow:
        return self.function(request)

    def __repr__(self) -> str:
        return str(getattr(self.function, "__qualname__", repr(self.function)))


def as_middleware(value: object, *, key: str = "middleware") -> Middleware:
    """``value`` as a middleware: an instance is returned as is, a generator function wrapped.

    Raises:
        ConfigError: ``value`` is neither (a class instead of an instance is called out).
    """
    if isinstance(value, Middleware):
        return value
    if inspect.isclass(value) and issubclass(value, Middleware):
        raise ConfigError(key, value, f"a middleware instance; call it first: {value.__name__}()")
    if inspect.isgeneratorfunction(value):
        return FunctionMiddleware(value)
    raise ConfigError(key, value, "a Middleware instance or a generator function (`response = yield request`)")


def overrides(middleware: Middleware, name: str) -> bool:
    """Whether ``middleware``'s class overrides the base class's method ``name``."""
    return getattr(type(middleware), name) is not getattr(Middleware, name)


def _settings_from_init(obj: object, *, with_defaults: bool = False) -> dict[str, Any]:
    """Constructor arguments read back from ``obj``'s attributes (``name`` or ``_name``)."""
    try:
        signature = inspect.signature(type(obj).__init__)
    except (TypeError, ValueError):  # builtins without a signature
        return {}
    shown: dict[str, Any] = {}
    for name, parameter in signature.parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        for attribute in (name, f"_{name}"):
            if hasattr(obj, attribute):
                value = getattr(obj, attribute)
                if with_defaults or parameter.default is parameter.empty or not _same(value, parameter.default):
                    shown[name] = value
                break
    return shown


def _same(value: object, default: object) -> bool:
    # A None default stored as an empty container ({} or ()) is still the default.
    if default is None and isinstance(value, (dict, list, tuple, set, frozenset)) and not value:
        return True
    try:
        return bool(value == default)
    except Exception:  # noqa: BLE001 - an odd __eq__ only means "show it"
        return False
