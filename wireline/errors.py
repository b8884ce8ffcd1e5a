"""The exceptions wireline raises itself.

Errors that happen on the wire keep the flavour's own types (``httpx.ConnectError``,
``httpx2.ReadTimeout``...) so that SDKs classify and retry them as they always have.
What is here is wireline's own: bad configuration, a missing optional package, a stack
used after it was closed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "MissingDependencyError",
    "PluginError",
    "StackClosedError",
    "WirelineError",
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
