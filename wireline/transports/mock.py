"""``MockTransport``: answer requests with a function, for tests and examples. No network.

The handler gets the request of whichever flavour is in use and returns a response of the same
flavour; :func:`wireline.respond` builds one without caring which::

    stack = wireline.Stack(transport=MockTransport(lambda request: wireline.respond(request, json={"ok": True})))

In async clients the handler may also be a coroutine function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wireline.errors import ConfigError
from wireline.transports.base import TransportSpec

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["MockTransport"]


class MockTransport(TransportSpec):
    """A base transport that calls ``handler(request)`` for every request.

    Args:
        handler: Returns the response for a request (an ``httpx`` or ``httpx2`` ``Response`` of
            the request's flavour; see :func:`wireline.respond`). May be ``async`` for async clients.
    """

    name = "mock"

    def __init__(self, handler: Callable[[Any], Any]) -> None:
        if not callable(handler):
            raise ConfigError("handler", handler, "a function that takes a request and returns a response")
        self.handler = handler

    def build(self, flavor: Flavor, *, asynchronous: bool) -> Any:
        return flavor.http.MockTransport(self.handler)

    def __repr__(self) -> str:
        return f"MockTransport({getattr(self.handler, '__qualname__', self.handler)})"
