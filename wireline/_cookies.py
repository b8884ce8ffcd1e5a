"""httpx2's cookie fast path, for the httpx clients a stack builds.

An httpx client hands every response to its cookie jar, which builds ``urllib`` request and response
objects (parsing the URL again) before finding that there is no ``Set-Cookie`` header — about a sixth
of an httpx client's own cost per request at high concurrency. httpx2 looks for the header first; a
stack gives its httpx clients the same check. The cookies kept and sent are exactly the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wireline._flavors import Flavor

__all__ = ["skip_empty_cookie_extraction"]


def skip_empty_cookie_extraction(client: Any, flavor: Flavor) -> None:
    """Give ``client`` (built by a stack) a cookie jar that skips responses without cookies."""
    if flavor.name != "httpx":
        return  # httpx2 checks for Set-Cookie itself
    cookies = client.cookies
    if type(cookies) is not flavor.http.Cookies:
        return
    checked = flavor.derived("CheckedCookies", _make_checked_cookies)()
    checked.jar = cookies.jar  # the same jar: cookies given to the client stay
    client._cookies = checked  # noqa: SLF001 - httpx's client keeps its Cookies here; its setter would copy


def _make_checked_cookies(flavor: Flavor) -> type:
    base = flavor.http.Cookies

    def extract_cookies(self: Any, response: Any) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            base.extract_cookies(self, response)

    return type("Cookies", (base,), {"extract_cookies": extract_cookies, "__module__": "wireline._cookies"})
