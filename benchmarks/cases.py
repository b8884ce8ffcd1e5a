"""The catalogue of variants: every way of sending a request that the benchmarks compare.

A :class:`Case` makes a :class:`~benchmarks.measure.Subject` for an :class:`Env` (flavour, mode,
what the operation is, and whether it goes to the server or stays in memory). Most cases only say
how to build a client (:func:`client_case`); the operation — a request, or a stream read to its
end — is the same for all of them, so every client case works in every kind of group.

To add a case, add it to :func:`_catalogue` and name its key in the groups that should run it
(benchmarks/plan.py). Base transports need nothing here: every transport registered in the
``wireline.transports`` entry-point group gets its cases generated (``client@NAME``, ``stack-0@NAME``,
``full@NAME``, ``full-no-sdk@NAME``).
"""

from __future__ import annotations

import importlib
import itertools
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import wireline
from benchmarks.layers import (
    CannedTransport,
    ObserveChunks,
    PassFlow,
    PassHook,
    PassHooks,
    builtin,
    full_default_stack,
    full_stack_without_otel_sdk,
)
from benchmarks.measure import Subject, Unavailable
from benchmarks.raw import AsyncRawConnection, SyncRawConnection
from wireline._flavors import get_flavor
from wireline.middleware import Middleware
from wireline.registry import load_object, registry
from wireline.transports import Limits, TransportSpec

__all__ = ["CASES", "Case", "Env", "base_transports", "case"]

#: What one operation is: a request (body read), a stream read to its end, or in-memory chain calls.
Kind = Literal["request", "stream", "calls"]

#: Registered transports that are not base transports one can benchmark with default settings.
_NOT_BASES = {"mock"}
#: The base transport stacks use unless ``--base`` says otherwise.
DEFAULT_BASE = "http"


def base_transports() -> dict[str, Callable[[], TransportSpec]]:
    """Every base transport registered in the ``wireline.transports`` group (mock excluded)."""
    found: dict[str, Callable[[], TransportSpec]] = {}
    for name in registry.names("transports"):
        if name in _NOT_BASES:
            continue
        try:
            found[name] = registry.get("transports", name).load()
        except Exception:
            continue
    return found


@dataclass
class Env:
    """Where and how a subject runs.

    Attributes:
        flavor: ``"httpx"`` or ``"httpx2"``.
        asynchronous: Async clients (and a coroutine ``op``).
        kind: What one operation is (see :data:`Kind`).
        url: The server's base URL, or ``None`` to stay in memory (:class:`CannedTransport`).
        base: The base transport stacks are built over (a registered name).
        events: Events per stream (``kind == "stream"``).
        iterate: ``"lines"`` (what SSE readers do) or ``"raw"`` (chunks as they arrive).
        calls: Calls per operation for the in-memory layer figures.
        clients: SDK-style clients in the shared-pool comparison.
    """

    flavor: str
    asynchronous: bool
    kind: Kind = "request"
    url: str | None = None
    base: str = DEFAULT_BASE
    events: int = 1000
    iterate: Literal["lines", "raw"] = "lines"
    calls: int = 1000
    clients: int = 8
    _ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

    @property
    def http(self) -> Any:
        return get_flavor(self.flavor).http

    @property
    def network(self) -> bool:
        return self.url is not None

    @property
    def target(self) -> str:
        """The URL each operation fetches."""
        base = self.url or "http://bench.invalid"
        return f"{base}/sse?n={self.events}" if self.kind == "stream" else f"{base}/v1/chat/completions"

    def spec(self) -> TransportSpec:
        """The base transport for a stack: the one under test, or the in-memory one."""
        if not self.network:
            return CannedTransport(events=self.events if self.kind == "stream" else 0)
        factory = base_transports().get(self.base)
        if factory is None and ":" in self.base:  # "package.module:Class", registered or not
            factory = load_object(self.base, key="--base")
        if factory is None:
            raise Unavailable(f"no base transport registered as {self.base!r}")
        spec = factory()
        reason = spec.unsupported(self.flavor, asynchronous=self.asynchronous)
        if reason is not None:
            raise Unavailable(f"n/a: {reason}")
        return spec

    def bare_transport(self) -> Any:
        """``None`` (the client builds its own) on the network; the in-memory one otherwise."""
        if self.network:
            return None
        return CannedTransport(events=self.events if self.kind == "stream" else 0).build(
            get_flavor(self.flavor), asynchronous=self.asynchronous
        )

    def client_kwargs(self) -> dict[str, Any]:
        transport = self.bare_transport()
        return {} if transport is None else {"transport": transport}

    def ssl_context(self) -> ssl.SSLContext:
        """One SSL context, shared: what a stack's base transport does."""
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context


# -- the operation on a client ---------------------------------------------------------------------


def client_subject(env: Env, client: Any, closers: list[Callable[[], Any]], info: dict[str, Any]) -> Subject:
    """The group's operation, done with ``client``: one request, or one stream read to the end."""
    url = env.target
    if env.kind == "request":
        return Subject(_request_op(client, url, env.asynchronous), 1, closers, info)
    if env.kind == "stream":
        return Subject(_stream_op(client, url, env), env.events, closers, info)
    raise Unavailable(f"n/a for {env.kind}")


def _request_op(client: Any, url: str, asynchronous: bool) -> Callable[[], Any]:
    get = client.get
    if asynchronous:

        async def arequest() -> None:
            response = await get(url)
            if response.status_code != 200:
                raise _unexpected(response)

        return arequest

    def request() -> None:
        response = get(url)
        if response.status_code != 200:
            raise _unexpected(response)

    return request


def _stream_op(client: Any, url: str, env: Env) -> Callable[[], Any]:
    lines = env.iterate == "lines"
    stream = client.stream
    if env.asynchronous:

        async def astream() -> None:
            async with stream("GET", url) as response:
                async for _ in response.aiter_lines() if lines else response.aiter_raw():
                    pass

        return astream

    def sync_stream() -> None:
        with stream("GET", url) as response:
            for _ in response.iter_lines() if lines else response.iter_raw():
                pass

    return sync_stream


def _unexpected(response: Any) -> RuntimeError:
    return RuntimeError(f"the benchmark server answered {response.status_code}: {response.text[:200]!r}")


def _closing(client: Any, env: Env) -> Callable[[], Any]:
    return client.aclose if env.asynchronous else client.close  # type: ignore[no-any-return]


def client_from(stack: wireline.Stack, env: Env) -> Any:
    """A client of ``env``'s flavour and mode from ``stack`` (the flavour is only known at run time)."""
    untyped: Any = stack
    return (untyped.async_client if env.asynchronous else untyped.client)(env.flavor)


def transport_from(stack: wireline.Stack, flavor: str, *, asynchronous: bool) -> Any:
    """A transport of ``flavor`` from ``stack``, sync or async."""
    untyped: Any = stack
    return (untyped.async_transport if asynchronous else untyped.transport)(flavor)


# -- cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One variant.

    Attributes:
        key: Stable identifier (used by groups, JSON and targets).
        label: Row label; ``{flavor}`` is filled in.
        make: Builds the subject for an env (raises :class:`Unavailable` with a reason).
        modes: ``"sync"``/``"async"`` it exists in; other groups leave it out.
        flavors: Flavours it exists for (``None``: flavourless, shown in every flavour's groups).
    """

    key: str
    label: str
    make: Callable[[Env], Subject]
    modes: frozenset[str] = frozenset({"sync", "async"})
    flavors: frozenset[str] | None = frozenset({"httpx", "httpx2"})

    def applies(self, env: Env) -> bool:
        mode = "async" if env.asynchronous else "sync"
        return mode in self.modes and (self.flavors is None or env.flavor in self.flavors)

    def title(self, env: Env) -> str:
        return self.label.format(flavor=env.flavor)


def client_case(key: str, label: str, build: Callable[[Env, list[Callable[[], Any]]], Any], **options: Any) -> Case:
    """A case that only says how to build its client; the operation comes from the group."""

    def make(env: Env) -> Subject:
        closers: list[Callable[[], Any]] = []
        info: dict[str, Any] = {}
        client = build(env, closers)
        if isinstance(client, _WithInfo):
            info, client = client.info, client.client
        closers.append(_closing(client, env))
        return client_subject(env, client, closers, info)

    return Case(key, label, make, **options)


@dataclass
class _WithInfo:
    client: Any
    info: dict[str, Any]


def _bare(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    http = env.http
    return (http.AsyncClient if env.asynchronous else http.Client)(**env.client_kwargs())


def _bare_with_wireline_limits(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    http = env.http
    defaults = Limits()
    limits = http.Limits(
        max_connections=defaults.max_connections,
        max_keepalive_connections=defaults.max_keepalive_connections,
        keepalive_expiry=defaults.keepalive_expiry,
    )
    return (http.AsyncClient if env.asynchronous else http.Client)(limits=limits, **env.client_kwargs())


def _keep_alive_off(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    if not env.network:
        raise Unavailable("n/a in memory")
    http = env.http
    limits = http.Limits(max_keepalive_connections=0)
    return (http.AsyncClient if env.asynchronous else http.Client)(limits=limits)


def stack_client(layers: Callable[[], list[Middleware]], base: str | None = None) -> Any:
    """A client builder for a stack of ``layers()`` over the env's base (or the base named ``base``)."""

    def build(env: Env, closers: list[Callable[[], Any]]) -> Any:
        spec = env.spec() if base is None or not env.network else replace(env, base=base).spec()
        stack = wireline.Stack(*layers(), transport=spec)
        closers.append(stack.aclose if env.asynchronous else stack.close)
        info = {"stream_observers": observing_layers(stack, env.flavor), "base": type(spec).name}
        return _WithInfo(client_from(stack, env), info)

    return build


def base_client(base: str) -> Callable[[Env, list[Callable[[], Any]]], Any]:
    """A client builder: the env's client straight over the base transport named ``base``, no stack.

    What the httpx/httpx2 client API and the base transport cost together, before a stack or any
    layer adds to them. (A stack's httpx client is a little cheaper still: it skips cookie
    extraction for responses that set no cookie, so the targets take the cheaper of the two.)
    """

    def build(env: Env, _closers: list[Callable[[], Any]]) -> Any:
        if not env.network:
            raise Unavailable("n/a in memory")
        spec = replace(env, base=base).spec()
        transport = spec.build(get_flavor(env.flavor), asynchronous=env.asynchronous)
        client = (env.http.AsyncClient if env.asynchronous else env.http.Client)(transport=transport)
        return _WithInfo(client, {"base": type(spec).name})  # closing the client closes the transport

    return build


def observing_layers(stack: wireline.Stack, flavor: str) -> int:
    """How many of ``stack``'s layers observe a response body (one probe request, in memory)."""
    probe = stack.with_transport(CannedTransport(events=1))
    try:
        transport = transport_from(probe, flavor, asynchronous=False)
        response = transport.handle_request(get_flavor(flavor).http.Request("GET", "http://bench.invalid/"))
        callbacks = getattr(response.stream, "_chunk_callbacks", ())
        count = len(callbacks)
        response.close()
    except Exception:
        return -1
    finally:
        probe.close()
    return count


def _subclass_send(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    http = env.http
    if env.asynchronous:

        class AsyncSendOverride(http.AsyncClient):  # type: ignore[name-defined,misc]
            async def send(self, request: Any, **kwargs: Any) -> Any:
                return await super().send(request, **kwargs)

        return AsyncSendOverride(**env.client_kwargs())

    class SendOverride(http.Client):  # type: ignore[name-defined,misc]
        def send(self, request: Any, **kwargs: Any) -> Any:
            return super().send(request, **kwargs)

    return SendOverride(**env.client_kwargs())


def _event_hooks(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    http = env.http
    if env.asynchronous:

        async def anothing(_: Any) -> None:
            return None

        hooks = {"request": [anothing], "response": [anothing]}
        return http.AsyncClient(event_hooks=hooks, **env.client_kwargs())

    def nothing(_: Any) -> None:
        return None

    return http.Client(event_hooks={"request": [nothing], "response": [nothing]}, **env.client_kwargs())


def _otel_contrib(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    try:
        from opentelemetry.instrumentation import httpx as contrib
    except ImportError as exc:
        raise Unavailable("opentelemetry-instrumentation-httpx is not installed") from exc
    instrumentor = contrib.HTTPXClientInstrumentor if env.flavor == "httpx" else contrib.HTTPX2ClientInstrumentor
    client = _bare(env, _closers)
    instrumentor.instrument_client(client)
    return client


def _httpx_retries(env: Env, _closers: list[Callable[[], Any]]) -> Any:
    try:
        from httpx_retries import RetryTransport
    except ImportError as exc:
        raise Unavailable("httpx-retries is not installed") from exc
    http = env.http
    inner = env.bare_transport() or (http.AsyncHTTPTransport() if env.asynchronous else http.HTTPTransport())
    client_class = http.AsyncClient if env.asynchronous else http.Client
    return client_class(transport=RetryTransport(transport=inner))


def _layers(factory: Callable[[], Middleware], count: int) -> Callable[[], list[Middleware]]:
    return lambda: [factory() for _ in range(count)]


# -- cases that are not a client ------------------------------------------------------------------


def _raw(env: Env) -> Subject:
    if not env.network or env.kind not in ("request", "stream"):
        raise Unavailable("n/a")
    units = env.events if env.kind == "stream" else 1
    if env.asynchronous:
        idle: list[AsyncRawConnection] = []
        opened: list[AsyncRawConnection] = []

        async def aget() -> None:
            if idle:
                connection = idle.pop()
            else:
                connection = AsyncRawConnection(env.target)
                opened.append(connection)
            try:
                await connection.get()
            finally:
                idle.append(connection)

        async def close_all() -> None:
            for connection in opened:
                await connection.aclose()

        return Subject(aget, units, [close_all])
    connection = SyncRawConnection(env.target)
    return Subject(connection.get, units, [connection.close])


def _raw_pipelined(env: Env) -> Subject:
    if not env.network or env.asynchronous or env.kind != "request":
        raise Unavailable("n/a")
    depth = 64
    connection = SyncRawConnection(env.target)
    return Subject(lambda: connection.get(depth), depth, [connection.close], {"pipeline_depth": depth})


def _aiohttp(env: Env) -> Subject:
    if not env.network or env.kind not in ("request", "stream"):
        raise Unavailable("n/a")
    try:
        import aiohttp
    except ImportError as exc:
        raise Unavailable("aiohttp is not installed (pip install 'wireline[bench]')") from exc
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
    url = env.target
    get = session.get
    if env.kind == "stream":

        async def astream() -> None:
            async with get(url) as response:
                async for _ in response.content:
                    pass

        return Subject(astream, env.events, [session.close])

    async def arequest() -> None:
        async with get(url) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"the benchmark server answered {response.status}")

    return Subject(arequest, 1, [session.close])


def _client_per_request(env: Env) -> Subject:
    """``httpx.get()`` style: build a client (SSL context and all), send once, close it."""
    if not env.network or env.kind != "request":
        raise Unavailable("n/a")
    http, url = env.http, env.target
    if env.asynchronous:

        async def aonce() -> None:
            async with http.AsyncClient() as client:
                (await client.get(url)).raise_for_status()

        return Subject(aonce)

    def once() -> None:
        with http.Client() as client:
            client.get(url).raise_for_status()

    return Subject(once)


# -- in memory: the chain alone, many calls per operation ----------------------------------------


def layer_calls(factory: Callable[[], Middleware] | None, count: int) -> Callable[[Env], Subject]:
    """``env.calls`` calls of a stack transport of ``count`` layers over a prebuilt answer."""

    def make(env: Env) -> Subject:
        layers = [factory() for _ in range(count)] if factory is not None else []
        stack = wireline.Stack(*layers, transport=CannedTransport(reuse=True))
        flavor = get_flavor(env.flavor)
        request = flavor.http.Request("GET", "http://bench.invalid/")
        calls = range(env.calls)
        if env.asynchronous:
            ahandle = transport_from(stack, env.flavor, asynchronous=True).handle_async_request

            async def acalls() -> None:
                for _ in calls:
                    await ahandle(request)

            return Subject(acalls, env.calls, [stack.aclose], {"layers": count})
        handle = transport_from(stack, env.flavor, asynchronous=False).handle_request

        def sync_calls() -> None:
            for _ in calls:
                handle(request)

        return Subject(sync_calls, env.calls, [stack.close], {"layers": count})

    return make


# -- clients built per call, and clients sharing a pool -----------------------------------------


def per_call(prepare: Callable[[Env, list[Callable[[], Any]]], Callable[[], Any]]) -> Callable[[Env], Subject]:
    """``prepare(env, closers)`` returns a client factory; each operation builds a client, sends once, closes it."""

    def make(env: Env) -> Subject:
        if not env.network:
            raise Unavailable("n/a in memory")
        closers: list[Callable[[], Any]] = []
        new_client = prepare(env, closers)
        url = env.target
        if env.asynchronous:

            async def aonce() -> None:
                async with new_client() as client:
                    (await client.get(url)).raise_for_status()

            return Subject(aonce, 1, closers)

        def once() -> None:
            with new_client() as client:
                client.get(url).raise_for_status()

        return Subject(once, 1, closers)

    return make


def _new_bare(env: Env, _closers: list[Callable[[], Any]]) -> Callable[[], Any]:
    http = env.http
    return http.AsyncClient if env.asynchronous else http.Client  # type: ignore[no-any-return]


def _new_bare_shared_ssl(env: Env, _closers: list[Callable[[], Any]]) -> Callable[[], Any]:
    http, context = env.http, env.ssl_context()
    client_class = http.AsyncClient if env.asynchronous else http.Client
    return lambda: client_class(verify=context)


def _new_from_stack(
    layers: Callable[[], list[Middleware]],
) -> Callable[[Env, list[Callable[[], Any]]], Callable[[], Any]]:
    """One stack, built up front; a new client from it per call."""

    def prepare(env: Env, closers: list[Callable[[], Any]]) -> Callable[[], Any]:
        stack = wireline.Stack(*layers(), transport=env.spec())
        closers.append(stack.aclose if env.asynchronous else stack.close)
        return lambda: client_from(stack, env)

    return prepare


def sdk_clients(build_all: Callable[[Env, list[Callable[[], Any]]], list[Any]]) -> Callable[[Env], Subject]:
    """``env.clients`` SDK-style clients; each request goes to one of them picked at random."""

    def make(env: Env) -> Subject:
        if not env.network or not env.asynchronous:
            raise Unavailable("n/a")
        closers: list[Callable[[], Any]] = []
        clients = build_all(env, closers)
        closers.extend(client.aclose for client in clients)
        chooser = random.Random(6)
        picks = itertools.cycle([chooser.randrange(len(clients)) for _ in range(4096)])
        gets = [client.get for client in clients]
        url = env.target

        async def arequest() -> None:
            (await gets[next(picks)](url)).raise_for_status()

        async def open_every_pool() -> None:
            for get in gets:
                (await get(url)).raise_for_status()

        return Subject(arequest, 1, closers, {"clients": len(clients)}, warm=open_every_pool)

    return make


def _own_pools(env: Env, _closers: list[Callable[[], Any]]) -> list[Any]:
    return [env.http.AsyncClient() for _ in range(env.clients)]


def _one_stack(layers: Callable[[], list[Middleware]]) -> Callable[[Env, list[Callable[[], Any]]], list[Any]]:
    def build(env: Env, closers: list[Callable[[], Any]]) -> list[Any]:
        stack = wireline.Stack(*layers(), transport=env.spec())
        closers.append(stack.aclose)
        return [client_from(stack, env) for _ in range(env.clients)]

    return build


def _stack_each(env: Env, closers: list[Callable[[], Any]]) -> list[Any]:
    clients = []
    for _ in range(env.clients):
        stack = wireline.Stack(transport=env.spec())
        closers.append(stack.aclose)
        clients.append(client_from(stack, env))
    return clients


# -- a real provider SDK: the OpenAI SDK's own client against one built from a stack -----------------

_CHAT: dict[str, Any] = {"model": "bench-model-1", "messages": [{"role": "user", "content": "Say something."}]}


def _openai_clients(
    env: Env, layers: Callable[[], list[Middleware]] | None, count: int, closers: list[Any]
) -> list[Any]:
    """``count`` OpenAI SDK clients: the SDK's own (a pool each), or built from one stack of ``layers()``."""
    try:
        import openai
    except ImportError as exc:
        raise Unavailable("the openai SDK is not installed (pip install 'wireline[openai]')") from exc
    settings: dict[str, Any] = {"api_key": "sk-bench", "base_url": f"{env.url}/v1"}
    if layers is None:
        sdk_class = openai.AsyncOpenAI if env.asynchronous else openai.OpenAI
        return [sdk_class(**settings) for _ in range(count)]
    try:
        adapter = importlib.import_module("wireline.providers.openai")
    except ImportError as exc:
        raise Unavailable("not available (wireline.providers.openai)") from exc
    stack = wireline.Stack(*layers(), transport=env.spec())
    closers.append(stack.aclose if env.asynchronous else stack.close)
    build = adapter.async_client if env.asynchronous else adapter.client
    return [build(stack, **settings) for _ in range(count)]


def openai_sdk(layers: Callable[[], list[Middleware]] | None, clients: int = 1) -> Callable[[Env], Subject]:
    """``clients`` OpenAI SDK clients, each with its own pool (``layers`` None), or all from one stack.

    One operation is ``chat.completions.create()``, through a client picked at random.
    """

    def make(env: Env) -> Subject:
        if not env.network or env.kind != "request":
            raise Unavailable("n/a")
        closers: list[Callable[[], Any]] = []
        made = _openai_clients(env, layers, clients, closers)
        closers.extend(sdk.close for sdk in made)
        chooser = random.Random(6)
        picks = itertools.cycle([chooser.randrange(clients) for _ in range(4096)])
        creates = [sdk.chat.completions.create for sdk in made]
        if env.asynchronous:

            async def acreate() -> None:
                await creates[next(picks)](**_CHAT)

            async def open_every_pool() -> None:
                for create in creates:
                    await create(**_CHAT)

            return Subject(acreate, 1, closers, {"clients": clients}, warm=open_every_pool)

        def create() -> None:
            creates[next(picks)](**_CHAT)

        return Subject(create, 1, closers, {"clients": clients})

    return make


# -- the catalogue ----------------------------------------------------------------------------------

_NONE: Callable[[], list[Middleware]] = list
_FLAVORLESS: dict[str, Any] = {"flavors": None}


def _builtin_alone(name: str) -> Callable[[], list[Middleware]]:
    return lambda: [builtin(name)]


def _base_cases() -> list[Case]:
    """For each registered base transport but the default: the client over it alone, the stack, the full stack.

    And the full stack with OpenTelemetry's no-op providers in place of the SDK: the fast-base
    targets print it, so that what the SDK costs is told apart from what wireline's layers cost.
    """
    cases = []
    for name in base_transports():
        if name == DEFAULT_BASE:
            continue
        cases.append(client_case(f"client@{name}", f"{{flavor}} client over {name}, no stack", base_client(name)))
        cases.append(client_case(f"stack-0@{name}", f"stack, no layers, over {name}", stack_client(_NONE, name)))
        cases.append(
            client_case(f"full@{name}", f"full default stack over {name}", stack_client(full_default_stack, name))
        )
        cases.append(
            client_case(
                f"full-no-sdk@{name}",
                f"full default stack over {name}, OpenTelemetry without its SDK",
                stack_client(full_stack_without_otel_sdk, name),
            )
        )
    return cases


def _catalogue() -> list[Case]:
    cases = [
        Case("raw", "raw socket keep-alive", _raw, **_FLAVORLESS),
        Case("raw-pipelined", "raw socket, 64 pipelined", _raw_pipelined, modes=frozenset({"sync"}), **_FLAVORLESS),
        Case("aiohttp", "aiohttp ClientSession", _aiohttp, modes=frozenset({"async"}), **_FLAVORLESS),
        client_case("bare", "bare {flavor}", _bare),
        client_case("bare-wl-limits", "bare {flavor}, wireline's pool limits", _bare_with_wireline_limits),
        client_case("stack-0", "stack, no layers", stack_client(_NONE)),
    ]
    factory: type[Middleware]
    for key, words, factory in (
        ("hook", "pass-through (hook)", PassHook),
        ("flow", "pass-through (flow)", PassFlow),
        ("observe", "stream-observing", ObserveChunks),
    ):
        cases.extend(
            client_case(f"{key}-{n}", f"stack + {n} {words}", stack_client(_layers(factory, n))) for n in (1, 5, 20)
        )
    cases += [
        client_case("full", "full default stack", stack_client(full_default_stack)),
        client_case("logging", "Logging alone", stack_client(_builtin_alone("Logging"))),
        client_case("retry", "Retry alone", stack_client(_builtin_alone("Retry"))),
        client_case("tracing", "Tracing alone", stack_client(_builtin_alone("Tracing"))),
        client_case("proxyrouter", "ProxyRouter alone", stack_client(_builtin_alone("ProxyRouter"))),
        *_base_cases(),
        client_case("subclass-send", "{flavor}.Client subclass overriding send()", _subclass_send),
        client_case("event-hooks", "no-op event hooks", _event_hooks),
        client_case("otel-contrib", "opentelemetry-instrumentation-httpx", _otel_contrib),
        client_case("httpx-retries", "httpx-retries RetryTransport", _httpx_retries, flavors=frozenset({"httpx"})),
        client_case("keepalive-off", "no pooling: keep-alive off", _keep_alive_off),
        Case("client-per-request", "no pooling: new client per request", _client_per_request),
        # In memory, the chain alone: a stack transport called directly, no client, no I/O.
        Case("calls-0", "stack, no layers", layer_calls(None, 0)),
    ]
    for form, factory in (("hook", PassHook), ("hooks", PassHooks), ("flow", PassFlow)):
        cases.extend(
            Case(f"calls-{form}-{n}", f"{n} pass-through ({form})", layer_calls(factory, n)) for n in (1, 5, 20)
        )
    cases += [
        # A new client per call: what code that builds an SDK client per request pays.
        Case("per-call-bare", "new {flavor} client per call", per_call(_new_bare)),
        Case("per-call-bare-ssl", "new {flavor} client per call, shared SSLContext", per_call(_new_bare_shared_ssl)),
        Case("per-call-stack", "new client per call from one stack", per_call(_new_from_stack(_NONE))),
        Case("per-call-full", "new client per call from one full stack", per_call(_new_from_stack(full_default_stack))),
        # Several SDK-style clients: each with its own pool, or sharing one stack's.
        Case("sdk-own-pools", "8 bare clients, a pool each", sdk_clients(_own_pools), modes=frozenset({"async"})),
        Case("sdk-stack-each", "8 stacks, a pool each", sdk_clients(_stack_each), modes=frozenset({"async"})),
        Case(
            "sdk-one-stack",
            "8 clients of one stack, one pool",
            sdk_clients(_one_stack(_NONE)),
            modes=frozenset({"async"}),
        ),
        Case("openai", "openai SDK client", openai_sdk(None), flavors=None),
        Case("openai-stack", "openai SDK client from a stack, no layers", openai_sdk(_NONE), flavors=None),
        Case(
            "openai-full", "openai SDK client from the full default stack", openai_sdk(full_default_stack), flavors=None
        ),
        Case("openai-8", "8 openai SDK clients, a pool each", openai_sdk(None, 8), flavors=None),
        Case("openai-8-stack", "8 openai SDK clients of one stack, one pool", openai_sdk(_NONE, 8), flavors=None),
        Case(
            "openai-8-full", "8 openai SDK clients of one full stack", openai_sdk(full_default_stack, 8), flavors=None
        ),
        Case(
            "sdk-one-full-stack",
            "8 clients of one full stack, one pool",
            sdk_clients(_one_stack(full_default_stack)),
            modes=frozenset({"async"}),
        ),
    ]
    return cases


CASES: dict[str, Case] = {}


def case(key: str) -> Case:
    """The case called ``key`` (the catalogue is built on first use, after plugins are installed)."""
    if not CASES:
        CASES.update((c.key, c) for c in _catalogue())
    return CASES[key]


def base_case_keys(prefix: str) -> list[str]:
    """Keys of the generated per-base-transport cases starting with ``prefix`` (``"full@"``...)."""
    case("bare")
    return [key for key in CASES if key.startswith(prefix)]
