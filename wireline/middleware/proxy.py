"""``ProxyRouter``: send each request through the proxy (or none) its URL calls for.

The router chooses; the stack's pools connect. For each request it puts a
:class:`~wireline.transports.Route` in ``request.extensions["wireline.route"]``, and the stack
applies that route's settings (``proxy=``, ``verify=``, ``cert=``) to its own base transport, keeping
one pool per route. So routing works over any base transport whose spec takes those settings
(``HTTPTransport`` does), and the route taken is there for Logging and Tracing to report.

Routes are built once, when the router is made (the proxy variables are read then too), so
each route keeps one pool for the life of the stack.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from wireline import _clock
from wireline._flavors import flavor_of
from wireline.errors import ConfigError, ProxyUnreachableError, retyped
from wireline.extensions import ROUTE
from wireline.middleware._proxy_rules import NoProxy, UrlPattern, default_port, environment_proxies, proxy_label
from wireline.middleware.base import Middleware
from wireline.redaction import redact_url
from wireline.transports.base import Route
from wireline.transports.http import _check_proxy
from wireline.transports.tls import TLSConfig, tls_refusal

if TYPE_CHECKING:
    from wireline.stack import Stack
    from wireline.typing import Flow, Request

__all__ = ["ProxyRouter"]

_log = logging.getLogger("wireline")

#: What a route's value may be: a proxy URL, ``None`` (direct), several proxy URLs (tried in
#: order), or a table with ``proxy``, ``verify``, ``cert`` and ``name``.
RouteValue = str | Sequence[str] | Mapping[str, Any] | None

_ROUTE_KEYS: Final = ("proxy", "verify", "cert", "name")
_CACHE_SIZE = 1024


@dataclass(eq=False)
class _Rule:
    """Where requests matching one pattern go: one route per proxy, in failover order."""

    name: str
    routes: tuple[Route, ...]
    proxies: tuple[str | None, ...]
    tls: dict[str, Any] = field(default_factory=dict)
    pattern: UrlPattern | None = None
    source: str = ""  # for explain: "the route 'x'", "HTTPS_PROXY", "NO_PROXY"...


class ProxyRouter(Middleware):
    """Route requests by URL to a proxy, or direct, with per-route TLS settings.

    Args:
        routes: URL pattern -> where to go. Patterns are ``scheme://host:port`` with parts optional
            and a glob host (``"https://*.openai.azure.com"``, ``"*.corp.example"``, ``"*"``); the most
            specific match wins (a port, then an exact host, then more literal characters, then a
            scheme; ties go to the one listed first). Values: a proxy URL (``http://``,
            ``https://``, ``socks5://`` / ``socks5h://`` with ``wireline[socks]``; credentials in the URL
            are used and never shown), ``None`` for direct, a list of proxy URLs to fail over
            between, or a table ``{"proxy": ..., "verify": ..., "cert": ..., "name": ...}`` with TLS
            settings for the route (as ``HTTPTransport`` takes them) and a name for logs.
        trust_env: For URLs no pattern matches, honour ``HTTP_PROXY``, ``HTTPS_PROXY``,
            ``ALL_PROXY`` and ``NO_PROXY`` (and their lower-case forms) as curl and httpx do. Read
            when the router is made.
        failover: When a route lists several proxies, try the next when one cannot be reached
            (connect error or timeout; a TLS refusal is not retried elsewhere).
        down_for: Seconds an unreachable proxy is tried last, after the others.
    """

    unique = True

    def __init__(
        self,
        routes: Mapping[str, RouteValue] | None = None,
        *,
        trust_env: bool = True,
        failover: bool = True,
        down_for: float = 30.0,
    ) -> None:
        if routes is not None and not isinstance(routes, Mapping):
            raise ConfigError("routes", routes, "a table of URL pattern -> proxy URL, list of proxies, table or None")
        for key, value in (("trust_env", trust_env), ("failover", failover)):
            if not isinstance(value, bool):
                raise ConfigError(key, value, "true or false")
        if isinstance(down_for, bool) or not isinstance(down_for, (int, float)) or down_for < 0:
            raise ConfigError("down_for", down_for, "a number of seconds >= 0")
        self.routes = dict(routes or {})
        self.trust_env = trust_env
        self.failover = failover
        self.down_for = float(down_for)
        rules = [
            _rule(_check_pattern(pattern), value, key=f"routes[{pattern!r}]") for pattern, value in self.routes.items()
        ]
        # Most specific first; sorted() is stable, so ties keep the order they were listed in.
        self._rules = sorted(rules, key=lambda rule: rule.pattern.specificity, reverse=True)  # type: ignore[union-attr]
        self._env = environment_proxies() if trust_env else {}
        self._no_proxy = NoProxy(self._env["no"]) if "no" in self._env else None
        self._env_rules: dict[str, _Rule] = {
            key: _rule(None, self._env[key], key=f"{key.upper()}_PROXY", name=f"{key.upper()}_PROXY")
            for key in ("http", "https", "all")
            if key in self._env
        }
        self._direct = _rule(None, None, key="direct", name="direct")
        self._no_proxy_rule = _rule(None, None, key="NO_PROXY", name="NO_PROXY")
        every = [*self._rules, *self._env_rules.values(), self._direct, self._no_proxy_rule]
        self._own: frozenset[Route] = frozenset(route for rule in every for route in rule.routes)
        self._cache: dict[tuple[str, str, int | None], _Rule] = {}
        self._down: dict[Route, float] = {}
        self._lock = threading.Lock()

    # -- what the stack asks ----------------------------------------------------------------

    def check(self, stack: Stack, index: int) -> None:
        base = stack.base
        if getattr(base, "proxy", None):
            raise ConfigError(
                "transport",
                base,
                "no proxy= on the base transport next to ProxyRouter (two owners of the proxy choice): "
                "give it to the router instead, e.g. ProxyRouter({..., '*': 'http://proxy:3128'})",
            )
        try:
            parameters = inspect.signature(type(base).__init__).parameters
        except (TypeError, ValueError):
            return
        if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return
        for route in self._own:
            for key, _ in route.settings:
                if key not in parameters:
                    raise ConfigError(
                        "transport",
                        base,
                        f"a base transport that takes {key}= for ProxyRouter's route {route.name!r} "
                        "(wireline.transports.HTTPTransport does)",
                    )

    def settings(self) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        if self.routes:
            shown["routes"] = self.routes
        if not self.trust_env:
            shown["trust_env"] = False
        if not self.failover:
            shown["failover"] = False
        if self.down_for != 30.0:  # noqa: PLR2004 - the default
            shown["down_for"] = self.down_for
        return shown

    def explain(self, url: str) -> Iterator[str]:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        rule = self._rule_for(scheme, parts.hostname or "", parts.port or default_port(scheme))
        named = rule.pattern is None or rule.name != rule.pattern.text
        yield f"route: {rule.name!r} ({rule.source})" if named else f"route: the pattern {rule.name!r}"
        if rule.proxies == (None,):
            yield "  direct: no proxy"
        else:
            first, *rest = (redact_url(proxy) for proxy in rule.proxies if proxy is not None)
            yield f"  proxy: {first}" + (f"; fails over to {', '.join(rest)}" if rest and self.failover else "")
        if rule.tls:
            tls = TLSConfig(**rule.tls)
            yield f"  TLS for this route: trusts {tls.trust_source}" + (
                "; presents a client certificate" if tls.cert is not None else ""
            )
        if self.trust_env and self._env:
            shown = ", ".join(
                f"{key.upper()}_PROXY={redact_url(value)}" if key != "no" else f"NO_PROXY={value}"
                for key, value in self._env.items()
            )
            yield f"  from the environment: {shown}"

    # -- the flow ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Flow:
        extensions = request.extensions
        current = extensions.get(ROUTE)
        if current is not None and current not in self._own:
            response = yield request  # the caller chose a route for this request: keep it
            return response  # type: ignore[no-any-return]
        url = request.url
        key = (url.scheme, url.host, url.port)
        rule = self._cache.get(key)
        if rule is None:
            rule = self._remember(key)
        routes = rule.routes
        if len(routes) == 1 or not self.failover:
            extensions[ROUTE] = routes[0]
            response = yield request
            return response  # type: ignore[no-any-return]
        response = yield from self._fail_over(request, rule)
        return response

    def _fail_over(self, request: Request, rule: _Rule) -> Flow:
        """Try the rule's proxies in order, healthy ones first, until one can be reached."""
        http = flavor_of(request).http
        unreachable = (http.ConnectError, http.ConnectTimeout)
        order = self._order(rule)
        tried: list[str] = []
        for position, (route, proxy) in enumerate(order, 1):
            request.extensions[ROUTE] = route
            try:
                response = yield request
            except unreachable as exc:
                if tls_refusal(exc) is not None:
                    raise
                self._down[route] = _clock.monotonic() + self.down_for
                tried.append(f"{redact_url(proxy)} ({type(exc).__name__}: {exc})")
                if position == len(order):
                    message = (
                        f"{request.method} {redact_url(request.url)}: no proxy of the route {rule.name!r} "
                        f"could be reached: {'; '.join(tried)}"
                    )
                    proxies = tuple(redact_url(p) for _, p in order)
                    raise retyped(
                        ProxyUnreachableError, type(exc), message, request=request, route=rule.name, proxies=proxies
                    ) from exc
                _log.warning(
                    "wireline: proxy %s of the route %r cannot be reached (%s); trying %s",
                    redact_url(proxy),
                    rule.name,
                    type(exc).__name__,
                    redact_url(order[position][1]),
                )
                continue
            self._down.pop(route, None)
            return response  # type: ignore[no-any-return]
        raise AssertionError("unreachable: a rule has at least one route")  # pragma: no cover

    def _order(self, rule: _Rule) -> list[tuple[Route, str]]:
        """The rule's proxies, those not marked down first (each group in the listed order)."""
        now = _clock.monotonic()
        pairs = [(route, proxy or "") for route, proxy in zip(rule.routes, rule.proxies, strict=True)]
        down = self._down
        return sorted(pairs, key=lambda pair: down.get(pair[0], 0.0) > now)

    # -- matching ---------------------------------------------------------------------------

    def _remember(self, key: tuple[str, str, int | None]) -> _Rule:
        scheme, host, port = key
        rule = self._rule_for(scheme, host, port if port is not None else default_port(scheme))
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = rule
        return rule

    def _rule_for(self, scheme: str, host: str, port: int | None) -> _Rule:
        for rule in self._rules:
            if rule.pattern is not None and rule.pattern.matches(scheme, host, port):
                return rule
        if self._no_proxy is not None and self._no_proxy.matches(host, port):
            return self._no_proxy_rule
        env_rule = self._env_rules.get(scheme) or self._env_rules.get("all")
        return env_rule if env_rule is not None else self._direct


def _check_pattern(pattern: object) -> UrlPattern:
    return UrlPattern.parse(pattern, key=f"routes[{pattern!r}]")  # type: ignore[arg-type]


def _rule(pattern: UrlPattern | None, value: object, *, key: str, name: str | None = None) -> _Rule:
    """Build a rule's routes, once, checking every setting (errors name ``key``)."""
    proxy_value, tls, given_name = _route_table(value, key) if isinstance(value, Mapping) else (value, {}, None)
    proxies = _proxies(proxy_value, value, key)
    label = given_name or name or (pattern.text if pattern is not None else key)
    routes = tuple(
        Route.of(label, **tls) if proxy is None else Route.of(f"{label} via {proxy_label(proxy)}", proxy=proxy, **tls)
        for proxy in proxies
    )
    if pattern is not None:
        source = f"the pattern {pattern.text!r}"
    else:
        source = _SOURCES.get(key, f"the environment variable {key}")
    return _Rule(label, routes, proxies, tls, pattern, source)


_SOURCES = {"direct": "no pattern or proxy variable applies", "NO_PROXY": "NO_PROXY covers this host"}


def _route_table(value: Mapping[str, Any], key: str) -> tuple[object, dict[str, Any], str | None]:
    """``(proxy, tls settings, name)`` from a route's table, checked."""
    unknown = [k for k in value if k not in _ROUTE_KEYS]
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", value[unknown[0]], f"one of the keys {', '.join(_ROUTE_KEYS)}")
    tls = {k: value[k] for k in ("verify", "cert") if k in value}
    try:
        TLSConfig(**tls)  # validated now, not at the first request
    except ConfigError as exc:
        raise exc.at(key) from None
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigError(f"{key}.name", name, "a name for logs")
    return value.get("proxy"), tls, name


def _proxies(proxy_value: object, value: object, key: str) -> tuple[str | None, ...]:
    """The proxies a route goes through, in order; ``(None,)`` for direct. Each URL checked."""
    if proxy_value is None:
        return (None,)
    if isinstance(proxy_value, str):
        proxies: tuple[str, ...] = (proxy_value,)
    elif isinstance(proxy_value, Sequence) and proxy_value and all(isinstance(p, str) for p in proxy_value):
        proxies = tuple(proxy_value)
    else:
        raise ConfigError(key, value, "a proxy URL, a list of proxy URLs, None (direct), or a table with 'proxy'")
    for proxy in proxies:
        try:
            _check_proxy(proxy)
        except ConfigError as exc:
            raise exc.at(key) from None
    return proxies
