"""What every provider adapter does, written once.

An adapter module names its SDK, the HTTP flavour the SDK takes and its ``gen_ai.provider.name``,
and says where its SDK takes the client, the retry setting and the timeout. The rest is here:
importing the SDK (or saying which extra to install), building the stack's client tagged with the
provider, settling which layer retries, and refusing settings that would route around the stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from wireline._flavors import get_flavor
from wireline.errors import ConfigError, MissingDependencyError
from wireline.extensions import PROVIDER, SDK_TRACES
from wireline.stack import Stack

__all__ = [
    "build_stainless",
    "http_client",
    "http_clients_for_both_modes",
    "import_sdk",
    "refuse",
    "retry_owner",
    "sdk_traces_hooks",
    "stack_retries_already",
    "tags",
    "with_sdk_retries_settled",
]

_MISSING: Any = object()


def import_sdk(module: str, *, extra: str, adapter: str) -> Any:
    """The SDK's module, or :class:`~wireline.MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module.partition(".")[0]
        raise MissingDependencyError(missing, extra, f"wireline.providers.{adapter}") from exc


def tags(provider: str) -> dict[str, Any]:
    """The ``request.extensions`` an adapter's client puts on every request it sends."""
    return {PROVIDER: provider}


def sdk_traces_hooks(traced: Callable[[Any], bool]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``event_hooks`` for a sync and an async client: ``SDK_TRACES`` on each request ``traced`` says the SDK traces.

    Decided per request, as the request leaves the SDK: whether an SDK records a span depends on
    the tracer provider in force then (an SDK "on" over OpenTelemetry's no-op provider records
    nothing, and wireline's tracing must not stand back for it), not only on the client's options.
    """

    def note(request: Any) -> None:
        if traced(request):
            request.extensions[SDK_TRACES] = True

    async def anote(request: Any) -> None:
        note(request)

    return {"request": [note]}, {"request": [anote]}


def http_client(
    stack: Stack, flavor: str, *, asynchronous: bool, extensions: Mapping[str, Any], **client_kwargs: Any
) -> Any:
    """A client of ``flavor`` built on ``stack``; closing it (SDKs do) leaves the stack's pools open."""
    build = stack.async_client if asynchronous else stack.client
    return build(flavor, extensions=extensions, **client_kwargs)  # type: ignore[call-overload]


def http_clients_for_both_modes(
    stack: Stack,
    flavor: str,
    *,
    extensions: Mapping[str, Any],
    per_mode: tuple[Mapping[str, Any], Mapping[str, Any]] = ({}, {}),
    **client_kwargs: Any,
) -> tuple[Any, Any]:
    """A sync and an async client of ``flavor`` on ``stack``, for SDKs that take both at once.

    ``client_kwargs`` go to both; ``per_mode`` holds what differs (sync, async). When the stack's
    base transport cannot serve one of the modes (an async-only backend, say), that mode gets a
    client whose every request raises the stack's :class:`~wireline.ConfigError` saying why: the
    SDK must not fall back to a client of its own, around the stack.
    """
    clients = []
    for asynchronous in (False, True):
        kwargs = {**client_kwargs, **per_mode[asynchronous]}
        try:
            clients.append(http_client(stack, flavor, asynchronous=asynchronous, extensions=extensions, **kwargs))
        except ConfigError as refused:
            clients.append(_refusing_client(flavor, refused, asynchronous=asynchronous))
    return clients[0], clients[1]


def _refusing_client(flavor: str, refused: ConfigError, *, asynchronous: bool) -> Any:
    http = get_flavor(flavor).http

    def error() -> ConfigError:
        return ConfigError(refused.key, refused.value, refused.expected)

    if asynchronous:

        class RefusingAsync(http.AsyncBaseTransport):  # type: ignore[name-defined,misc]
            async def handle_async_request(self, request: Any) -> Any:
                raise error()

        return http.AsyncClient(transport=RefusingAsync())

    class Refusing(http.BaseTransport):  # type: ignore[name-defined,misc]
        def handle_request(self, request: Any) -> Any:
            raise error()

    return http.Client(transport=Refusing())


def refuse(sdk_kwargs: Mapping[str, Any], adapter: str, names: Iterable[str], why: str) -> None:
    """Raise :class:`~wireline.ConfigError` for any of ``names`` given (the adapter sets them itself)."""
    for name in names:
        if sdk_kwargs.get(name) is not None:
            raise ConfigError(f"{adapter}({name}=...)", sdk_kwargs[name], f"no {name}= here: {why}")


def retry_owner(stack: Stack) -> Any:
    """The layer of ``stack`` that retries, or ``None``."""
    return next((layer for layer in stack.layers if layer.owns_retries), None)


def with_sdk_retries_settled(
    stack: Stack, sdk_kwargs: Mapping[str, Any], *, adapter: str, key: str, off: Any
) -> dict[str, Any]:
    """``sdk_kwargs`` with one retry owner: the SDK's retries off (``key=off``) when the stack retries.

    When the stack does not retry, the SDK keeps its own retries (and whatever the user set).
    When it does, a user setting that makes the SDK retry too is refused: retries would multiply.
    """
    owner = retry_owner(stack)
    kwargs = dict(sdk_kwargs)
    if owner is None:
        return kwargs
    given = kwargs.get(key, _MISSING)
    if given is _MISSING:
        kwargs[key] = off
    elif given != off:
        raise ConfigError(f"{adapter}({key}=...)", given, f"{off!r} or nothing: {stack_retries_already(owner)}")
    return kwargs


def stack_retries_already(owner: Any) -> str:
    """Why an SDK retry setting is refused over a stack whose layer ``owner`` retries."""
    return (
        f"the stack retries already ({owner!r}), and an SDK retrying over it multiplies attempts; keep one retry owner"
    )


def build_stainless(
    stack: Stack,
    sdk_kwargs: Mapping[str, Any],
    *,
    sdk: tuple[str, str, str],
    extra: str,
    adapter: str,
    flavor: str,
    asynchronous: bool,
    extensions: Mapping[str, Any],
    event_hooks: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
) -> Any:
    """An SDK client of the Stainless family (OpenAI, Azure OpenAI, Anthropic, Groq) on ``stack``.

    ``sdk`` is ``(module, sync class, async class)``. These SDKs take ``http_client=`` and
    ``max_retries=``, and use the client's timeout unless it is exactly httpx's 5 s default: the
    client is built with the SDK's own ``DEFAULT_TIMEOUT`` (what the SDK uses with a client of its
    own), and a ``timeout=`` given to the SDK wins over both. ``follow_redirects=True`` as in the
    SDKs' own clients. ``event_hooks`` are the HTTP client's, for a sync and an async client.
    """
    module, sync_class, async_class = sdk
    package = import_sdk(module, extra=extra, adapter=adapter)
    refuse(sdk_kwargs, adapter, ["http_client"], "the adapter builds the HTTP client from the stack")
    kwargs = with_sdk_retries_settled(stack, sdk_kwargs, adapter=adapter, key="max_retries", off=0)
    hooks = {} if event_hooks is None else {"event_hooks": event_hooks[asynchronous]}
    client = http_client(
        stack,
        flavor,
        asynchronous=asynchronous,
        extensions=extensions,
        timeout=package.DEFAULT_TIMEOUT,
        follow_redirects=True,
        **hooks,
    )
    return getattr(package, async_class if asynchronous else sync_class)(http_client=client, **kwargs)
