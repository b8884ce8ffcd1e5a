"""providers.build: adapters by name through the wireline.providers entry-point group."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import wireline
from wireline import providers


def test_an_unknown_provider_lists_the_known_ones() -> None:
    """An unknown name is a PluginError naming the key and listing what is registered."""
    with pytest.raises(wireline.PluginError, match=r"^provider: expected a registered provider name"):
        providers.build("no-such-provider", wireline.Stack())


def test_an_adapter_module_by_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """'module:attribute' names an adapter; build passes the stack and the SDK kwargs through."""
    calls: list[tuple[str, Any, dict[str, Any]]] = []
    adapter: Any = types.ModuleType("fake_adapter")

    def client(stack: wireline.Stack, **kw: Any) -> str:
        calls.append(("sync", stack, kw))
        return "sync-client"

    def async_client(stack: wireline.Stack, **kw: Any) -> str:
        calls.append(("async", stack, kw))
        return "async-client"

    adapter.client, adapter.async_client = client, async_client
    holder = types.ModuleType("fake_adapters")
    holder.fake = adapter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_adapters", holder)
    stack = wireline.Stack()
    assert providers.build("fake_adapters:fake", stack, api_key="k") == "sync-client"
    assert providers.build("fake_adapters:fake", stack, asynchronous=True) == "async-client"
    assert calls == [("sync", stack, {"api_key": "k"}), ("async", stack, {})]


def test_something_that_is_not_an_adapter_is_refused() -> None:
    """A reference to an object without client()/async_client() is a ConfigError saying what is needed."""
    with pytest.raises(wireline.ConfigError, match="an adapter with client"):
        providers.build("wireline:Stack.close", wireline.Stack())


def test_unknown_attributes_are_attribute_errors() -> None:
    """providers.<name> imports an adapter module; an absent one is an AttributeError."""
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = providers.nope
