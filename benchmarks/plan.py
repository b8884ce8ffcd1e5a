"""Which groups run in which mode (smoke, quick, full): the one place that lists them.

A group is a table: variants measured side by side against one baseline. Adding a case to a group
is adding its key to a tuple here; cases generated for registered base transports (``full@NAME``,
``stack-0@NAME``) join the groups that ask for them through :func:`_with_bases`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
        concurrency: Tasks sending at once (async).
        kind: The operation (see :data:`benchmarks.cases.Kind`).
        network: Against the server (or in memory).
        cases: Case keys, in table order.
        baseline: The case every other is compared with.
        unit: What one unit of work is (the table's "µs per ...").
        events: Events per stream.
        iterate: How streams are read.
        seconds: Budget per variant per round, as a multiple of the mode's.
    """

    key: str
    title: str
    section: str
    flavor: str
    asynchronous: bool
    cases: tuple[str, ...]
    baseline: str
    unit: str
    concurrency: int = 1
    kind: str = "request"
    network: bool = True
    events: int = 1000
    iterate: Literal["lines", "raw"] = "lines"
    seconds: float = 1.0
    placement: Placement | None = None  # this group's placement under the "auto" policy

    @property
    def concurrent(self) -> bool:
        return self.asynchronous and self.concurrency > 1

    @property
    def mode_words(self) -> str:
        if not self.asynchronous:
            return "sync"
        return f"async, concurrency {self.concurrency}"


_LAYER_CASES = tuple(f"calls-{form}-{n}" for form in ("hook", "hooks", "flow") for n in (1, 5, 20))
_BUILTINS = ("full", "logging", "retry", "tracing", "proxyrouter")
_PEERS = ("subclass-send", "event-hooks", "otel-contrib", "httpx-retries")
_STACKS = ("stack-0", "hook-1", "hook-5", "hook-20", "flow-1", "flow-5", "flow-20")


def _with_bases(cases: tuple[str, ...], *prefixes: str) -> tuple[str, ...]:
    extra = [key for prefix in prefixes for key in base_case_keys(prefix)]
    return cases + tuple(extra)


def _layers(flavor: str, *, asynchronous: bool, quick: bool = False) -> Group:
    mode = "async" if asynchronous else "sync"
    cases = ("calls-0", *(c for c in _LAYER_CASES if not quick or not c.endswith("-1")))
    return Group(
        key=f"layers/{mode}/{flavor}",
        title=f"The chain alone, in memory: {mode} {flavor} transport calls through pass-through layers",
        section="layers",
        flavor=flavor,
        asynchronous=asynchronous,
        cases=cases,
        baseline="calls-0",
        unit="call",
        kind="calls",
        network=False,
        seconds=0.6,
    )


def _in_memory(flavor: str, cases: tuple[str, ...], *, asynchronous: bool) -> Group:
    mode = "async" if asynchronous else "sync"
    return Group(
        key=f"memory-requests/{mode}/{flavor}",
        title=f"Requests in memory (no I/O): what each variant adds to a {mode} {flavor} client's request",
        section="in-memory",
        flavor=flavor,
        asynchronous=asynchronous,
        cases=cases,
        baseline="bare",
        unit="request",
        network=False,
        seconds=0.6,
    )


def _chunks(flavor: str, cases: tuple[str, ...], *, asynchronous: bool, events: int) -> Group:
    mode = "async" if asynchronous else "sync"
    return Group(
        key=f"chunks/{mode}/{flavor}",
        title=f"Stream chunks in memory (no I/O): {mode} {flavor}, {events} chunks per response, iter_raw()",
        section="in-memory",
        flavor=flavor,
        asynchronous=asynchronous,
        cases=cases,
        baseline="bare",
        unit="chunk",
        kind="stream",
        network=False,
        events=events,
        iterate="raw",
        seconds=0.6,
    )


def _requests(flavor: str, cases: tuple[str, ...], *, asynchronous: bool, concurrency: int = 1) -> Group:
    mode = "async" if asynchronous else "sync"
    suffix = f"/c{concurrency}" if asynchronous else ""
    words = f"async, concurrency {concurrency}" if asynchronous else "sync, sequential"
    return Group(
        key=f"requests/{mode}/{flavor}{suffix}",
        title=f"Requests to the local server: {flavor}, {words}, keep-alive",
        section="requests",
        flavor=flavor,
        asynchronous=asynchronous,
        cases=cases,
        baseline="bare",
        unit="request",
        concurrency=concurrency,
    )


def _stream(flavor: str, cases: tuple[str, ...], *, asynchronous: bool, events: int) -> Group:
    mode = "async" if asynchronous else "sync"
    return Group(
        key=f"stream/{mode}/{flavor}",
        title=f"Streaming from the local server: {flavor} {mode}, SSE of {events} events read with iter_lines()",
        section="streaming",
        flavor=flavor,
        asynchronous=asynchronous,
        cases=cases,
        baseline="bare",
        unit="event",
        kind="stream",
        events=events,
    )


def _split_sequential(flavor: str) -> Group:
    """Sequential requests with the client on the other CPU: what cross-CPU wake-ups do to the figures."""
    return Group(
        key=f"requests/sync/{flavor}/split",
        title=f"Requests to the local server: {flavor}, sync, sequential, client and server on different CPUs",
        section="requests",
        flavor=flavor,
        asynchronous=False,
        cases=("raw", "bare", "stack-0", "hook-20", "flow-20", "full", "otel-contrib"),
        baseline="bare",
        unit="request",
        placement="split",
    )


def _ceiling() -> Group:
    return Group(
        key="ceiling/sync",
        title="The server's ceiling: raw sockets, keep-alive and pipelined",
        section="ceiling",
        flavor="httpx",
        asynchronous=False,
        cases=("raw", "raw-pipelined"),
        baseline="raw",
        unit="request",
    )


def _per_call(flavor: str, *, asynchronous: bool) -> Group:
    mode = "async" if asynchronous else "sync"
    return Group(
        key=f"client-per-call/{mode}/{flavor}",
        title=f"A new client for every call ({flavor} {mode}): build it, send one request, close it",
        section="pooling",
        flavor=flavor,
        asynchronous=asynchronous,
        cases=("per-call-bare", "per-call-bare-ssl", "per-call-stack", "per-call-full"),
        baseline="per-call-bare",
        unit="call",
    )


def _shared_pool(flavor: str, concurrency: int) -> Group:
    return Group(
        key=f"shared-pool/async/{flavor}/c{concurrency}",
        title=(
            f"Eight SDK-style {flavor} async clients, {concurrency} requests in flight, each request to a "
            "client picked at random: a pool each, or one stack's pool"
        ),
        section="pooling",
        flavor=flavor,
        asynchronous=True,
        concurrency=concurrency,
        cases=("sdk-own-pools", "sdk-stack-each", "sdk-one-stack", "sdk-one-full-stack"),
        baseline="sdk-own-pools",
        unit="request",
    )


def _openai(*, asynchronous: bool, concurrency: int = 1) -> Group:
    """A real SDK call, ``chat.completions.create()``, through the OpenAI SDK's own client and a stack's."""
    mode = "async" if asynchronous else "sync"
    several = asynchronous and concurrency > 1
    cases = ("openai-8", "openai-8-stack", "openai-8-full") if several else ("openai", "openai-stack", "openai-full")
    words = (
        f"eight clients, concurrency {concurrency}, each call to a client picked at random" if several else "sequential"
    )
    return Group(
        key=f"sdk/{mode}/openai" + (f"/c{concurrency}" if asynchronous else ""),
        title=f"OpenAI SDK chat.completions.create() against the local server: {mode}, {words}",
        section="sdk",
        flavor="httpx2",
        asynchronous=asynchronous,
        concurrency=concurrency,
        cases=cases,
        baseline=cases[0],
        unit="call",
    )


def plan(mode: Mode) -> list[Group]:
    """The groups of a run, in the order they run."""
    if mode == "smoke":
        return _smoke()
    if mode == "quick":
        return _quick()
    return _full()


def _full() -> list[Group]:
    sequential = ("raw", "bare", "bare-wl-limits", *_STACKS, *_BUILTINS, *_PEERS, "keepalive-off", "client-per-request")
    concurrent = (
        "raw",
        "aiohttp",
        "bare",
        "bare-wl-limits",
        "stack-0",
        "hook-5",
        "flow-20",
        "full",
        "tracing",
        "otel-contrib",
        "httpx-retries",
        "keepalive-off",
    )
    in_memory = ("bare", "stack-0", "hook-20", "flow-20", *_BUILTINS, *_PEERS)
    chunk_cases = ("bare", "stack-0", "observe-1", "observe-5", "observe-20", "full", "logging", "tracing", "retry")
    stream_cases = (
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
    modes = (False, True)
    flavors = ("httpx", "httpx2")
    groups = [_ceiling()]
    groups += [_layers(f, asynchronous=a) for a in modes for f in flavors]
    groups += [_in_memory(f, in_memory, asynchronous=a) for a in modes for f in flavors]
    groups += [_chunks(f, chunk_cases, asynchronous=a, events=1000) for a in modes for f in flavors]
    for flavor in flavors:
        groups.append(_requests(flavor, _with_bases(sequential, "stack-0@", "full@"), asynchronous=False))
        groups.append(_requests(flavor, _with_bases(("aiohttp", *sequential), "stack-0@", "full@"), asynchronous=True))
    groups += [
        _requests(f, _with_bases(concurrent, "stack-0@", "full@"), asynchronous=True, concurrency=c)
        for c in (16, 64)
        for f in flavors
    ]
    groups.append(_split_sequential("httpx"))
    groups += [_stream(f, stream_cases, asynchronous=a, events=1000) for f in flavors for a in modes]
    groups += [_per_call(f, asynchronous=a) for f in flavors for a in modes]
    groups += [_shared_pool(f, 64) for f in flavors]
    groups += [_openai(asynchronous=False), _openai(asynchronous=True, concurrency=16)]
    return groups


def _quick() -> list[Group]:
    sequential = ("raw", "bare", "bare-wl-limits", *_STACKS, *_BUILTINS, *_PEERS, "keepalive-off")
    concurrent = (
        "raw",
        "aiohttp",
        "bare",
        "bare-wl-limits",
        "stack-0",
        "hook-5",
        "full",
        "otel-contrib",
        "keepalive-off",
    )
    in_memory = ("bare", "stack-0", "hook-20", "flow-20", *_BUILTINS, "otel-contrib", "httpx-retries")
    return [
        _ceiling(),
        _layers("httpx", asynchronous=False, quick=True),
        _layers("httpx", asynchronous=True, quick=True),
        _in_memory("httpx", in_memory, asynchronous=False),
        _chunks("httpx", ("bare", "observe-1", "observe-5", "full"), asynchronous=False, events=1000),
        _requests("httpx", _with_bases(sequential, "full@"), asynchronous=False),
        _requests("httpx", _with_bases(concurrent, "full@"), asynchronous=True, concurrency=64),
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
        _requests(
            "httpx", _with_bases((*every_client_case, "client-per-request"), "stack-0@", "full@"), asynchronous=False
        ),
        _requests("httpx2", ("aiohttp", *every_client_case, "client-per-request"), asynchronous=True, concurrency=4),
        _stream("httpx", ("raw", "aiohttp", "bare", "observe-1", "full"), asynchronous=True, events=20),
        _stream("httpx2", ("raw", "bare", "observe-1"), asynchronous=False, events=20),
        _per_call("httpx", asynchronous=False),
        _per_call("httpx2", asynchronous=True),
        _split_sequential("httpx"),
        _shared_pool("httpx", 4),
        _openai(asynchronous=False),
        _openai(asynchronous=True, concurrency=4),
    ]
