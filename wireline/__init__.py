"""wireline: one place to control the HTTP layer of every LLM provider SDK.

Compose a :class:`Stack` of middleware over a pooled base transport, build httpx or httpx2
clients and transports from it, and hand those to the provider SDKs (``wireline.providers``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wireline.config import load
from wireline.errors import (
    ConfigError,
    MissingDependencyError,
    PluginError,
    StackClosedError,
    WirelineError,
)
from wireline.messages import respond
from wireline.middleware.base import Middleware, Sleep
from wireline.stack import Stack
from wireline.streams import StreamEnd, StreamObserver, observe

if TYPE_CHECKING:
    from wireline import providers

__all__ = [
    "ConfigError",
    "Middleware",
    "MissingDependencyError",
    "PluginError",
    "Sleep",
    "Stack",
    "StackClosedError",
    "StreamEnd",
    "StreamObserver",
    "WirelineError",
    "__version__",
    "load",
    "observe",
    "providers",
    "respond",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("wireline")
        except PackageNotFoundError:  # running from a checkout that was never installed
            return "0+unknown"
    if name == "providers":
        return importlib.import_module("wireline.providers")
    raise AttributeError(f"module 'wireline' has no attribute {name!r}")
