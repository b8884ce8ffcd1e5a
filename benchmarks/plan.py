"""Which groups run in which mode (smoke, quick, full): the one place that lists them.

A group is a table: variants measured side by side against one baseline. Adding a case to a group
is adding its key to a tuple here; cases generated for registered base transports (``client@NAME``,
``stack-0@NAME``, ``full@NAME``) join the groups that ask for them through :func:`_with_bases`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from benchmarks.cases import base_case_keys
from benchmarks.environment import Placement

__all__ = ["Group", "Mode", "plan"]

Mode = Literal["smoke", "quick", "full"]


@dataclass(frozen=True)
class Group:
    """One table.

    Attributes:
        key: Stable identifier, ``section/mode/flavour[/cN]``.
        title: What the table shows.
        section: Which part of the report it belongs to.
        flavor: ``"httpx"`` or ``"httpx2"``.
        asynchronous: Async clients.
        cases: Case keys, in table order.
        baseline: The case every other is compared with.
        unit: What one unit of work is (the table's "µs per ...").
        concurrency: Tasks sending at once (async).
        kind: The operation (see :data:`benchmarks.cases.Kind`).
        network: Against the server (or in memory).
        events: Events per stream.
        iterate: How streams are read.
        seconds: Budget per variant per round, as a multiple of the mode's.
        placement: This group's placement under the ``auto`` policy (default: by concurrency).
    """

    key: str
    title: str
    section: str
    flavor: str
    asynchronous: bool
    cases: tuple[str, ...]
    baseline: str = "bare"
    unit: str = "request"
    concurrency: int = 1
    kind: str = "request"
    network: bool = True
    events: int = 1000
    iterate: Literal["lines", "raw"] = "lines"
    seconds: float = 1.0
    placement: Placement | None = None

    @property
    def concurrent(self) -> bool:
        return self.asynchronous and self.concurrency > 1


def _group(name: str, title: str, flavor: str, cases: tuple[str, ...], *, asynchronous: bool, **settings: Any) -> Group:
    """A group keyed ``name/mode/flavour[/cN]``; ``{mode}`` and ``{flavor}`` in ``title`` are filled in."""
    mode = "async" if asynchronous else "sync"
    concurrency = settings.get("concurrency", 1)
    key = f"{name}/{mode}/{flavor}" + (f"/c{concurrency}" if name in _PER_CONCURRENCY and asynchronous else "")
    settings.setdefault("section", name)
    return Group(
        key, title.format(mode=mode, flavor=flavor), flavor=flavor, asynchronous=asynchronous, cases=cases, **settings
    )


# Groups whose key names the concurrency (async ones run at several).
_PER_CONCURRENCY = {"requests", "shared-pool", "sdk"}

_LAYER_CASES = tuple(f"calls-{form}-{n}" for form in ("hook", "hooks", "flow") for n in (1, 5, 20))
_BUILTINS = ("full", "logging", "retry", "tracing", "proxyrouter")
_PEERS = ("subclass-send", "event-hooks", "otel-contrib", "httpx-retries")
_STACKS = ("stack-0", "hook-1", "hook-5", "hook-20", "flow-1", "flow-5", "flow-20")
_IN_MEMORY = {"network": False, "seconds": 0.6}


def _with_bases(cases: tuple[str, ...], *prefixes: str) -> tuple[str, ...]:
    extra = [key for prefix in prefixes for key in base_case_keys(prefix)]
    return cases + tuple(extra)


def _layers(flavor: str, *, asynchronous: bool, quick: bool = False) -> Group:
    cases = ("calls-0", *(c for c in _LAYER_CASES if not quick or not c.endswith("-1")))
    title = "The chain alone, in memory: {mode} {flavor} transport calls through pass-through layers"
    return _group(
        "layers",
        title,
        flavor,
        cases,
        asynchronous=asynchronous,
        baseline="calls-0",
        unit="call",
        kind="calls",
        **_IN_MEMORY,
    )


def _in_memory(flavor: str, cases: tuple[str, ...], *, asynchronous: bool) -> Group:
    title = "Requests in memory (no I/O): what each variant adds to a {mode} {flavor} client's request"
    return _group("memory-requests", title, flavor, cases, asynchronous=asynchronous, section="in-memory", **_IN_MEMORY)


def _chunks(flavor: str, cases: tuple[str, ...], *, asynchronous: bool, events: int) -> Group:
    title = f"Stream chunks in memory (no I/O): {{mode}} {{flavor}}, {events} chunks per response, iter_raw()"
    settings = {"unit": "chunk", "kind": "stream", "events": events, "iterate": "raw", "section": "in-memory"}
    return _group("chunks", title, flavor, cases, asynchronous=asynchronous, **settings, **_IN_MEMORY)


def _requests(flavor: str, cases: tuple[str, ...], *, asynchronous: bool, concurrency: int = 1) -> Group:
    words = f"async, concurrency {concurrency}" if asynchronous else "sync, sequential"
    title = f"Requests to the local server: {{flavor}}, {words}, keep-alive"
    return _group("requests", title, flavor, cases, asynchronous=asynchronous, concurrency=concurrency)


def _stream(flavor: str, cases: tuple[str, ...], *, asynchronous: bool, events: int) -> Group:
    title = f"Streaming from the local server: {{flavor}} {{mode}}, SSE of {events} events read with iter_lines()"
    settings = {"unit": "event", "kind": "stream", "events": events, "section": "streaming"}
    return _group("stream", title, flavor, cases, asynchronous=asynchronous, **settings)


def _split_sequential(flavor: str) -> Group:
    """Sequential requests with the client on the other CPU: what cross-CPU wake-ups do to the figures."""
    cases = ("raw", "bare", "stack-0", "hook-20", "flow-20", "full", "otel-contrib")
    title = "Requests to the local server: {flavor}, sync, sequential, client and server on different CPUs"
    group = _group("requests", title, flavor, cases, asynchronous=False, placement="split")
    return replace(group, key=group.key + "/split")


def _ceiling() -> Group:
    title = "The server's ceiling: raw sockets, keep-alive and pipelined"
    return _group("ceiling", title, "httpx", ("raw", "raw-pipelined"), asynchronous=False, baseline="raw")


def _per_call(flavor: str, *, asynchronous: bool) -> Group:
    cases = ("per-call-bare", "per-call-bare-ssl", "per-call-stack", "per-call-full")
    title = "A new client for every call ({flavor} {mode}): build it, send one request, close it"
    settings = {"baseline": "per-call-bare", "unit": "call", "section": "pooling"}
    return _group("client-per-call", title, flavor, cases, asynchronous=asynchronous, **settings)


def _shared_pool(flavor: str, concurrency: int) -> Group:
    cases = ("sdk-own-pools", "sdk-stack-each", "sdk-one-stack", "sdk-one-full-stack")
    title = (
        f"Eight SDK-style {{flavor}} async clients, {concurrency} requests in flight, each request to a "
        "client picked at random: a pool each, or one stack's pool"
    )
    settings = {"baseline": "sdk-own-pools", "concurrency": concurrency, "section": "pooling"}
    return _group("shared-pool", title, flavor, cases, asynchronous=True, **settings)


def _openai(*, asynchronous: bool, concurrency: int = 1) -> Group:
    """A real SDK call, ``chat.completions.create()``, through the OpenAI SDK's own client and a stack's."""
    several = asynchronous and concurrency > 1
    cases = ("openai-8", "openai-8-stack", "openai-8-full") if several else ("openai", "openai-stack", "openai-full")
    words = (
        f"eight clients, concurrency {concurrency}, each call to a client picked at random" if several else "sequential"
    )
    title = f"OpenAI SDK chat.completions.create() against the local server: {{mode}}, {words}"
    settings = {"baseline": cases[0], "unit": "call", "concurrency": concurrency}
    group = _group("sdk", title, "httpx2", cases, asynchronous=asynchronous, **settings)
    return replace(group, key=group.key.replace("/httpx2", "/openai"))


def plan(mode: Mode) -> list[Group]:
    """The groups of a run, in the order they run."""
    if mode == "smoke":
        return _smoke()
    if mode == "quick":
        return _quick()
    return _full()


# The case lists of the full run; quick runs a subset of each.
_SEQUENTIAL = ("raw", "bare", "bare-wl-limits", *_STACKS, *_BUILTINS, *_PEERS, "keepalive-off", "client-per-request")
_CONCURRENT: tuple[str, ...] = ("raw", "aiohttp", "bare", "bare-wl-limits", "stack-0", "hook-5", "flow-20", "full")
_CONCURRENT += ("tracing", "otel-contrib", "httpx-retries", "keepalive-off")
_IN_MEMORY_CASES = ("bare", "stack-0", "hook-20", "flow-20", *_BUILTINS, *_PEERS)
_CHUNK_CASES = ("bare", "stack-0", "observe-1", "observe-5", "observe-20", "full", "logging", "tracing", "retry")
_STREAM_CASES = (
    "raw",
    "aiohttp",
    "bare",
    "stack-0",
    "observe-1",
    "observe-5",
    "observe-20",
    "full",
    "logging",
    "tracing",
)
_BASES = ("client@", "stack-0@", "full@")
# Beside the fast-base targets (async groups): the full stack with OpenTelemetry's no-op providers.
_ASYNC_BASES = (*_BASES, "full-no-sdk@")


def _without(cases: tuple[str, ...], *dropped: str) -> tuple[str, ...]:
    return tuple(case for case in cases if case not in dropped)


def _full() -> list[Group]:
    modes = (False, True)
    flavors = ("httpx", "httpx2")
    groups = [_ceiling()]
    groups += [_layers(f, asynchronous=a) for a in modes for f in flavors]
    groups += [_in_memory(f, _IN_MEMORY_CASES, asynchronous=a) for a in modes for f in flavors]
    groups += [_chunks(f, _CHUNK_CASES, asynchronous=a, events=1000) for a in modes for f in flavors]
    for flavor in flavors:
        groups.append(_requests(flavor, _with_bases(_SEQUENTIAL, *_BASES), asynchronous=False))
        groups.append(_requests(flavor, _with_bases(("aiohttp", *_SEQUENTIAL), *_ASYNC_BASES), asynchronous=True))
    groups += [
        _requests(f, _with_bases(_CONCURRENT, *_ASYNC_BASES), asynchronous=True, concurrency=c)
        for c in (16, 64)
        for f in flavors
    ]
    groups.append(_split_sequential("httpx"))
    groups += [_stream(f, _STREAM_CASES, asynchronous=a, events=1000) for f in flavors for a in modes]
    groups += [_per_call(f, asynchronous=a) for f in flavors for a in modes]
    groups += [_shared_pool(f, 64) for f in flavors]
    groups += [_openai(asynchronous=False), _openai(asynchronous=True, concurrency=16)]
    return groups


def _quick() -> list[Group]:
    in_memory = _without(_IN_MEMORY_CASES, "subclass-send", "event-hooks")
    concurrent = _without(_CONCURRENT, "flow-20", "tracing", "httpx-retries")
    return [
        _ceiling(),
        _layers("httpx", asynchronous=False, quick=True),
        _layers("httpx", asynchronous=True, quick=True),
        _in_memory("httpx", in_memory, asynchronous=False),
        _chunks("httpx", ("bare", "observe-1", "observe-5", "full"), asynchronous=False, events=1000),
        _requests("httpx", _with_bases(_without(_SEQUENTIAL, "client-per-request"), "full@"), asynchronous=False),
        _requests("httpx", _with_bases(concurrent, *_ASYNC_BASES), asynchronous=True, concurrency=64),
        _stream("httpx", ("raw", "bare", "observe-5", "full"), asynchronous=False, events=1000),
        _shared_pool("httpx", 64),
        _openai(asynchronous=False),
    ]


def _smoke() -> list[Group]:
    """Every kind of group and every case at least once, with tiny budgets: the harness must not rot."""
    every_client_case = ("raw", "bare", "bare-wl-limits", *_STACKS, *_BUILTINS, *_PEERS, "keepalive-off")
    return [
        _ceiling(),
        _layers("httpx", asynchronous=False),
        _layers("httpx2", asynchronous=True),
        _in_memory("httpx", ("bare", "stack-0", "flow-20", *_BUILTINS, *_PEERS), asynchronous=True),
        _chunks("httpx2", ("bare", "observe-1", "observe-5", "full"), asynchronous=False, events=50),
        _requests("httpx", _with_bases((*every_client_case, "client-per-request"), *_BASES), asynchronous=False),
        _requests(
            "httpx2",
            _with_bases(("aiohttp", *every_client_case, "client-per-request"), *_ASYNC_BASES),
            asynchronous=True,
            concurrency=4,
        ),
        _stream("httpx", ("raw", "aiohttp", "bare", "observe-1", "full"), asynchronous=True, events=20),
        _stream("httpx2", ("raw", "bare", "observe-1"), asynchronous=False, events=20),
        _per_call("httpx", asynchronous=False),
        _per_call("httpx2", asynchronous=True),
        _split_sequential("httpx"),
        _shared_pool("httpx", 4),
        _openai(asynchronous=False),
        _openai(asynchronous=True, concurrency=4),
    ]
