"""``Headers``: set, default or remove request headers on every request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from wireline.errors import ConfigError
from wireline.middleware.base import Middleware

if TYPE_CHECKING:
    from wireline.typing import Request

__all__ = ["Headers"]


class Headers(Middleware):
    """Change request headers on the way out.

    Args:
        set: Headers to set, replacing what the request has.
        default: Headers to set only when the request has none of that name.
        remove: Header names to remove.

    Values given here are secrets like any others: ``repr`` shows ``Authorization`` and the
    other secret headers as ``REDACTED``.
    """

    def __init__(
        self,
        *,
        set: Mapping[str, str] | None = None,  # noqa: A002 - the word users reach for
        default: Mapping[str, str] | None = None,
        remove: Sequence[str] = (),
    ) -> None:
        for key, mapping in (("set", set), ("default", default)):
            for name, value in (mapping or {}).items():
                if not isinstance(name, str) or not isinstance(value, str):
                    raise ConfigError(f"{key}.{name}", value, "header names and values as strings")
        if isinstance(remove, str) or not all(isinstance(name, str) for name in remove):
            raise ConfigError("remove", remove, "a list of header names")
        self.set = dict(set or {})
        self.default = dict(default or {})
        self.remove = tuple(remove)

    def on_request(self, request: Request) -> None:
        headers = request.headers
        for name in self.remove:
            headers.pop(name, None)
        for name, value in self.default.items():
            if name not in headers:
                headers[name] = value
        headers.update(self.set)

    def explain(self, url: str) -> Iterator[str]:
        if self.set:
            yield f"sets {', '.join(self.set)}"
        if self.default:
            yield f"sets when absent {', '.join(self.default)}"
        if self.remove:
            yield f"removes {', '.join(self.remove)}"
