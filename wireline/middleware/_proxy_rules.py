"""What ``ProxyRouter`` matches, with no I/O: URL patterns, ``NO_PROXY`` and the proxy variables.

URL patterns (the keys of ``ProxyRouter``'s routes) are ``scheme://host:port`` with each part
optional and the host a glob (``*`` matches any characters, dots included):

======================================  ==============================================
``"*"``, ``"all://"``                   every URL
``"https://*"``                         every https URL
``"*.openai.azure.com"``                any scheme, hosts under openai.azure.com (not the domain itself)
``"https://api.example.com"``           that host, https only
``"http://localhost:8080"``             that host and port
``"*://[::1]"``                         an IPv6 literal
======================================  ==============================================

``NO_PROXY`` follows curl and httpx: a comma-separated list of ``*`` (everything), domains
(``example.com`` and ``.example.com`` both match the domain and every subdomain), IP addresses,
CIDR blocks (``10.0.0.0/8``), each optionally with a ``:port``. Case and a trailing dot on the
host do not matter.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.request
from dataclasses import dataclass
from typing import Final

from wireline.errors import ConfigError

__all__ = ["NoProxy", "UrlPattern", "default_port", "environment_proxies", "proxy_label"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_ANY_SCHEME = ("all", "*", "")
_PATTERN_EXAMPLES = "a URL pattern such as '*', 'https://*', '*.corp.example' or 'http://localhost:8080'"


def default_port(scheme: str) -> int | None:
    """The port a URL of ``scheme`` uses when it names none."""
    return _DEFAULT_PORTS.get(scheme.lower())


def _split_host_port(text: str) -> tuple[str, int | None]:
    """``"host:8080"`` -> ``("host", 8080)``; brackets of an IPv6 literal removed."""
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        elif rest:
            raise ValueError(text)
        return host, port
    if text.count(":") == 1:
        host, _, digits = text.partition(":")
        if not digits.isdigit():
            raise ValueError(text)
        return host, int(digits)
    return text, None  # a bare IPv6 literal (several colons) or a host without a port


@dataclass(frozen=True)
class UrlPattern:
    """A parsed route pattern (see the module docs).

    Attributes:
        text: The pattern as written.
        scheme: The scheme it requires, or ``None`` for any.
        host: The host glob, or ``None`` for any.
        port: The port it requires, or ``None`` for any.
    """

    text: str
    scheme: str | None
    host: str | None
    port: int | None

    @classmethod
    def parse(cls, text: str, *, key: str = "routes") -> UrlPattern:
        """Parse ``text``, or raise :class:`~wireline.ConfigError` naming ``key``."""
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(key, text, _PATTERN_EXAMPLES)
        raw = text.strip()
        scheme: str | None = None
        rest = raw
        if "://" in raw:
            scheme, _, rest = raw.partition("://")
            scheme = scheme.lower()
            if scheme in _ANY_SCHEME:
                scheme = None
            elif not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
                raise ConfigError(key, text, _PATTERN_EXAMPLES)
        rest = rest.rstrip("/")
        if "/" in rest or "?" in rest or "@" in rest:
            raise ConfigError(key, text, f"{_PATTERN_EXAMPLES} (a scheme, host and port; no path or credentials)")
        try:
            host, port = _split_host_port(rest)
        except ValueError:
            raise ConfigError(key, text, _PATTERN_EXAMPLES) from None
        host = host.lower().rstrip(".")
        if host == "*" and port is not None:
            host_glob: str | None = None
        else:
            host_glob = None if host in ("", "*") else host
        if host_glob is not None and not re.fullmatch(r"[a-z0-9*._:\-]+", host_glob):
            raise ConfigError(key, text, _PATTERN_EXAMPLES)
        return cls(raw, scheme, host_glob, port)

    def __post_init__(self) -> None:
        regex = None if self.host is None else re.compile(_glob_to_regex(self.host))
        object.__setattr__(self, "_regex", regex)

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        """Whether a URL with these parts matches (``port`` is the URL's effective port)."""
        if self.scheme is not None and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        regex: re.Pattern[str] | None = self._regex  # type: ignore[attr-defined]
        return regex is None or regex.fullmatch(host.lower().rstrip(".")) is not None

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """Sort key, most specific first: a port, a host, literal host characters, a scheme."""
        literal = 0 if self.host is None else len(self.host.replace("*", ""))
        exact = int(self.host is not None and "*" not in self.host)
        return (int(self.port is not None), exact, literal, int(self.scheme is not None))


def _glob_to_regex(glob: str) -> str:
    """``*`` matches any run of characters (dots included); everything else is literal."""
    return ".*".join(re.escape(part) for part in glob.split("*"))


@dataclass(frozen=True)
class _NoProxyEntry:
    domain: str | None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    port: int | None


class NoProxy:
    """A ``NO_PROXY`` value: which hosts go direct (see the module docs)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.everything = False
        self.entries: list[_NoProxyEntry] = []
        for raw in re.split(r"[,\s]+", value.strip()):
            if not raw:
                continue
            if raw == "*":
                self.everything = True
                continue
            entry = _no_proxy_entry(raw)
            if entry is not None:
                self.entries.append(entry)

    def matches(self, host: str, port: int | None) -> bool:
        """Whether ``host`` (and the URL's effective ``port``) should bypass the proxy."""
        if self.everything:
            return True
        host = host.lower().rstrip(".")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        address = _ip(host)
        for entry in self.entries:
            if entry.port is not None and entry.port != port:
                continue
            if entry.network is not None:
                if address is not None and address.version == entry.network.version and address in entry.network:
                    return True
            elif entry.domain is not None and (host == entry.domain or host.endswith("." + entry.domain)):
                return True
        return False

    def __repr__(self) -> str:
        return f"NoProxy({self.value!r})"


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _no_proxy_entry(raw: str) -> _NoProxyEntry | None:
    text = raw.lower()
    if "://" in text:  # httpx accepts "http://host"; the scheme does not narrow it here
        text = text.partition("://")[2]
    text = text.rstrip("/")
    try:
        network = ipaddress.ip_network(text, strict=False)  # an address, a CIDR block, a bare IPv6
    except ValueError:
        network = None
    if network is not None:
        return _NoProxyEntry(None, network, None)
    try:
        host, port = _split_host_port(text)
    except ValueError:
        return None  # unreadable: ignored, as curl and httpx do
    try:
        return _NoProxyEntry(None, ipaddress.ip_network(host, strict=False), port)
    except ValueError:
        pass
    domain = host.lstrip("*").lstrip(".").rstrip(".")
    return _NoProxyEntry(domain, None, port) if domain else None


def environment_proxies() -> dict[str, str]:
    """The proxy variables, as httpx and urllib read them: ``{"http": url, "https": url, "all": url, "no": hosts}``.

    Lower-case names win over upper-case ones; ``HTTP_PROXY`` is ignored in a CGI request
    (``REQUEST_METHOD`` set: the "httpoxy" header). A proxy without a scheme gets ``http://``.
    """
    found = urllib.request.getproxies_environment()
    proxies: dict[str, str] = {}
    for key in ("http", "https", "all"):
        value = found.get(key, "").strip()
        if value:
            proxies[key] = value if "://" in value else f"http://{value}"
    if found.get("no", "").strip():
        proxies["no"] = found["no"].strip()
    return proxies


def proxy_label(url: str) -> str:
    """``scheme://host:port`` of a proxy URL: safe for names and logs (no credentials)."""
    scheme, _, rest = url.partition("://")
    netloc = rest.split("/", 1)[0].rpartition("@")[2]
    return f"{scheme}://{netloc}"
