"""Building messages without caring which flavour is in use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wireline._flavors import flavor_of

if TYPE_CHECKING:
    from wireline.typing import Request, Response

__all__ = ["respond"]


def respond(
    request: Request,
    status_code: int = 200,
    *,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    content: bytes | str | None = None,
    text: str | None = None,
    json: Any = None,
) -> Response:
    """A response of ``request``'s flavour, for middleware that answers by itself.

    Example::

        def on_request(self, request):
            if request.url.path == "/health":
                return wireline.respond(request, json={"ok": True})
    """
    response_class = flavor_of(request).response_class
    return response_class(  # type: ignore[no-any-return]
        status_code, headers=headers, content=content, text=text, json=json, request=request
    )
