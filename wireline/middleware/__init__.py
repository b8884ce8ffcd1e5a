"""Middleware: the authoring API and the built-in layers.

The built-ins are imported on first use, so ``import wireline`` does not import OpenTelemetry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wireline.middleware.base import Close, Deliver, FunctionMiddleware, Middleware, Read, Sleep, as_middleware
from wireline.streams import StreamEnd, StreamObserver, observe

if TYPE_CHECKING:
    from wireline.middleware.headers import Headers
    from wireline.middleware.logging import Logging
    from wireline.middleware.proxy import ProxyRouter
    from wireline.middleware.retry import Retry
    from wireline.middleware.tracing import Tracing

__all__ = [
    "Close",
    "Deliver",
    "FunctionMiddleware",
    "Headers",
    "Logging",
    "Middleware",
    "ProxyRouter",
    "Read",
    "Retry",
    "Sleep",
    "StreamEnd",
    "StreamObserver",
    "Tracing",
    "as_middleware",
    "observe",
]

# Built-in middleware: class name -> module. Imported lazily by __getattr__.
_BUILTINS = {
    "Headers": "wireline.middleware.headers",
    "Logging": "wireline.middleware.logging",
    "Tracing": "wireline.middleware.tracing",
    "ProxyRouter": "wireline.middleware.proxy",
    "Retry": "wireline.middleware.retry",
}


def __getattr__(name: str) -> Any:
    module = _BUILTINS.get(name)
    if module is None:
        raise AttributeError(f"module 'wireline.middleware' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
