"""The exceptions wireline raises itself.

Errors that happen on the wire keep the flavour's own types (``httpx.ConnectError``,
``httpx2.ReadTimeout``...) so that SDKs classify and retry them as they always have.
What is here is wireline's own: bad configuration, a missing optional package, a stack
used after it was closed — and the errors of the layers that decide on the wire's failures
(``Retry``, ``ProxyRouter``). Those are raised as subclasses of *both* their wireline class and
the flavour's own class of the failure (see :func:`retyped`), so ``except httpx.ReadTimeout`` and
``except wireline.RetryError`` both catch them, and SDKs classify them as they always have.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CircuitOpenError",
    "ConfigError",
    "DeadlineExceededError",
    "MissingDependencyError",
    "PluginError",
    "ProxyUnreachableError",
    "ResponseInterruptedError",
    "RetryError",
    "StackClosedError",
    "WirelineError",
    "retyped",
]


class WirelineError(Exception):
    """Base class of every error wireline raises itself."""


class ConfigError(WirelineError, ValueError):
    """A setting, a config file or a stack's order is not usable.

    The message names where the bad value sits (``middleware[1].attempts``), the value
    that was given and what was expected, so the fix is in the message.

    Args:
        key: Where the bad value sits: a parameter name or a path into the config.
        value: The value that was given.
        expected: What would have been accepted, in words.
        source: The file the value came from, when there is one.
    """

    def __init__(self, key: str, value: Any, expected: str, *, source: str | None = None) -> None:
        self.key = key
        self.value = value
        self.expected = expected
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        # Imported here: redaction imports nothing from wireline, but errors must stay importable first.
        from wireline.redaction import redact_value

        where = "".join(f"{part}: " for part in (self.source, self.key) if part)
        return f"{where}expected {self.expected}, got {_describe(redact_value(self.value))}"

    def at(self, prefix: str, *, source: str | None = None) -> ConfigError:
        """The same error with ``prefix`` put in front of its key (``middleware[1]`` + ``attempts``)."""
        return type(self)(join_key(prefix, self.key), self.value, self.expected, source=source or self.source)


def join_key(prefix: str, key: str) -> str:
    """Join two parts of a config path: ``join_key("middleware[1]", "attempts")``."""
    if not prefix:
        return key
    if not key:
        return prefix
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


class PluginError(ConfigError):
    """A name could not be resolved through the entry-point registry (unknown, or registered twice)."""


class MissingDependencyError(WirelineError, ImportError):
    """An optional package is needed and not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, needed_for: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{needed_for} needs the {package!r} package, which is not installed. "
            f"Install it with: pip install 'wireline[{extra}]'",
            name=package,
        )


class StackClosedError(WirelineError, RuntimeError):
    """A request reached a stack after ``close()`` / ``aclose()`` (or the end of its ``with`` block)."""


_SHOWN_VALUE_LENGTH = 200


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > _SHOWN_VALUE_LENGTH:
        text = text[: _SHOWN_VALUE_LENGTH - 3] + "..."
    if value is None or isinstance(value, bool):
        return text
    return f"{text} ({type(value).__name__})"


# -- errors of the layers that decide on the wire's failures ---------------------------------


class RetryError(WirelineError):
    """``Retry`` stopped: the request failed and is not sent again. The message says why.

    Raised as a subclass of the failure's own class as well (an ``httpx.ConnectError`` stays
    one), so code and SDKs that catch the flavour's errors still do.

    Attributes:
        reason: Why it stopped, in a word: ``"attempts"``, ``"deadline"``, ``"method"``,
            ``"body"``, ``"budget"``, ``"circuit_open"``, ``"interrupted"``, ``"resend_differs"``.
        attempts: Attempts made (1-based count).
        response: The last response, when the last attempt got one (its body read), else ``None``.
        bytes_delivered: Bytes of the response body that had reached the caller (0 before any).
    """

    reason: str = ""
    attempts: int = 0
    response: Any = None
    bytes_delivered: int = 0


class DeadlineExceededError(RetryError):
    """The call's deadline passed, or the next wait would pass it. A ``TimeoutException`` too."""


class ResponseInterruptedError(RetryError):
    """Reading the response body failed after some of it had reached the caller.

    A resend cannot continue a body midway, so this is not retried; ``bytes_delivered`` says
    how much the caller got. Also an instance of the failure's own class (``httpx.ReadError``...).
    """


class CircuitOpenError(RetryError):
    """The circuit breaker for this host is open: the request was not sent. A ``ConnectError`` too."""


class ProxyUnreachableError(WirelineError):
    """No proxy of a ``ProxyRouter`` route could be reached. A ``ConnectError`` too.

    Attributes:
        route: The name of the route (never holds credentials).
        proxies: The proxies tried, in order, redacted.
    """

    route: str = ""
    proxies: tuple[str, ...] = ()


_retyped: dict[tuple[type, type], type] = {}


def retyped(kind: type[WirelineError], flavor_error: type[Exception], message: str, **attributes: Any) -> Any:
    """An error that is both a ``kind`` and a ``flavor_error`` (``httpx.ReadTimeout``, say).

    ``flavor_error`` is an httpx or httpx2 error class (constructed as ``cls(message, request=...)``);
    pass ``request=`` among ``attributes`` to attach the request. Classes are made once per pair.
    """
    key = (kind, flavor_error)
    cls = _retyped.get(key)
    if cls is None:
        cls = _retyped[key] = type(kind.__name__, (kind, flavor_error), {"__module__": "wireline.errors"})
    request = attributes.pop("request", None)
    error = cls(message, request=request)
    for name, value in attributes.items():
        setattr(error, name, value)
    return error
