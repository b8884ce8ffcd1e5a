"""Public type aliases for annotating middleware and transports.

A middleware receives the request object of whichever flavour the client uses, so its type is the
union of both. The aliases are strings at run time (httpx2 is optional); type checkers resolve them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import httpx
    import httpx2

    from wireline.middleware.base import Close, Deliver, Read, Sleep

__all__ = ["AsyncCall", "Flow", "Request", "Response", "SyncCall"]

#: An httpx or httpx2 request, as a middleware sees it.
Request: TypeAlias = "httpx.Request | httpx2.Request"

#: An httpx or httpx2 response, as a middleware sees it.
Response: TypeAlias = "httpx.Response | httpx2.Response"

#: What ``Middleware.handle`` returns: a generator that yields requests to send (or
#: :class:`~wireline.middleware.Sleep`, ``Close``, ``Read``, ``Deliver`` commands), is sent back the results, and
#: returns the response for the layer above.
Flow: TypeAlias = "Generator[Request | Sleep | Close | Read | Deliver, Any, Response]"

#: The rest of a sync chain, from one layer's point of view.
SyncCall: TypeAlias = "Callable[[Request], Response]"

#: The rest of an async chain, from one layer's point of view.
AsyncCall: TypeAlias = "Callable[[Request], Awaitable[Response]]"
