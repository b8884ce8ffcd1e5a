"""The Stack object itself: immutability, deriving stacks, reprs, order rules, what it builds."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import httpx
import httpx2
import pytest

import wireline
from wireline import _flavors
from wireline.middleware import Headers, Middleware
from wireline.transports import HTTPTransport, MockTransport


class Retrying(Middleware):
    """Stands for any layer that resends requests."""

    @property
    def owns_retries(self) -> bool:
        return True


class Only(Middleware):
    unique = True


class Named(Middleware):
    def __init__(self, name: str) -> None:
        self.name = name


def echo(request: Any) -> Any:
    return wireline.respond(request, json=dict(request.headers))


class TestDeriving:
    def test_with_layer_returns_a_new_stack(self) -> None:
        """Adding a layer leaves the original as it was."""
        a, b, c = Named("a"), Named("b"), Named("c")
        stack = wireline.Stack(a, b)
        assert stack.with_layer(c).layers == (a, b, c)
        assert stack.with_layer(c, before=b).layers == (a, c, b)
        assert stack.with_layer(c, after=a).layers == (a, c, b)
        assert stack.with_layer(c, before=0).layers == (c, a, b)
        assert stack.layers == (a, b)

    def test_without_and_replace(self) -> None:
        """Layers are picked by class, instance, class name or index."""
        a, b = Named("a"), Headers(set={"x": "1"})
        stack = wireline.Stack(a, b)
        assert stack.without(Headers).layers == (a,)
        assert stack.without("headers").layers == (a,)
        assert stack.without(a).layers == (b,)
        assert stack.without(-1).layers == (a,)
        replacement = Headers(set={"x": "2"})
        assert stack.replace(Headers, replacement).layers == (a, replacement)
        assert stack.with_transport(MockTransport(echo)).layers == stack.layers

    def test_a_selector_must_pick_exactly_one(self) -> None:
        """Ambiguous or absent selectors say what is in the stack."""
        stack = wireline.Stack(Named("a"), Named("b"))
        with pytest.raises(wireline.ConfigError, match="it picks 2: pass the instance or an index"):
            stack.without(Named)
        with pytest.raises(wireline.ConfigError, match=r"a layer of this stack \(layers: Named, Named\)"):
            stack.without(Headers)
        with pytest.raises(wireline.ConfigError, match="a layer index from 0 to 1"):
            stack.without(5)
        with pytest.raises(wireline.ConfigError, match="either before= or after="):
            stack.with_layer(Named("c"), before=0, after=1)

    def test_derived_stacks_have_their_own_pools(self) -> None:
        """A derived stack is a new owner: closing it leaves the original working."""
        stack = wireline.Stack(transport=MockTransport(echo))
        other = stack.with_layer(Named("x"))
        other.close()
        assert stack.client().get("http://test/").status_code == 200


class TestShowing:
    def test_repr_and_str_show_layers_outermost_first_with_secrets_redacted(self) -> None:
        """print(stack) lists the layers in order and the base transport; secrets never show."""
        stack = wireline.Stack(
            Headers(set={"Authorization": "Bearer sk-live-123", "x-team": "search"}),
            Named("inner"),
            transport=HTTPTransport(http2=True, proxy="http://bob:hunter2@proxy.corp:3128"),
        )
        text = str(stack)
        assert text.splitlines() == [
            "Stack (outermost first):",
            "  1. Headers(set={'Authorization': 'REDACTED', 'x-team': 'search'})",
            "  2. Named(name='inner')",
            "  base: HTTPTransport(http2=True, proxy='http://REDACTED:REDACTED@proxy.corp:3128')",
        ]
        assert repr(stack).startswith("Stack(Headers(set={'Authorization': 'REDACTED'")
        for secret in ("sk-live-123", "hunter2", "bob"):
            assert secret not in text
            assert secret not in repr(stack)

    def test_explain_lists_what_would_happen(self) -> None:
        """explain() walks the layers and the base transport for a URL."""
        stack = wireline.Stack(Headers(set={"x-team": "search"}), transport=HTTPTransport(verify=False))
        lines = stack.explain("https://api.openai.com/v1/chat/completions")
        assert "  1. Headers(set={'x-team': 'search'})" in lines
        assert "     sets x-team" in lines
        assert any("TLS: trusts nothing (verify=False" in line for line in lines)


class TestOrderRules:
    def test_two_retry_owners_are_refused(self) -> None:
        """Two layers that retry multiply attempts; the stack refuses and says why."""
        with pytest.raises(
            wireline.ConfigError, match=r"middleware\[2\]: expected one layer that retries, but middleware\[0\]"
        ):
            wireline.Stack(Retrying(), Named("x"), Retrying())
        assert wireline.Stack(Retrying()).owns_retries
        assert not wireline.Stack(Named("x")).owns_retries

    def test_a_stack_says_whether_a_layer_propagates_trace_context(self) -> None:
        """Provider adapters ask, to turn an SDK's own traceparent injection off."""

        class Propagating(Middleware):
            @property
            def propagates_trace_context(self) -> bool:
                return True

        assert wireline.Stack(Named("x"), Propagating()).propagates_trace_context
        assert not wireline.Stack(Named("x")).propagates_trace_context

    def test_unique_layers_are_refused_twice(self) -> None:
        """A layer class marked unique may appear once."""
        with pytest.raises(wireline.ConfigError, match=r"at most one Only per stack; middleware\[0\] is one already"):
            wireline.Stack(Only(), Only())

    def test_a_layer_can_refuse_its_position(self) -> None:
        """Middleware.check() lets a layer refuse an order that cannot work."""

        class MustBeOutermost(Middleware):
            def check(self, stack: wireline.Stack, index: int) -> None:
                if index != 0:
                    raise wireline.ConfigError(f"middleware[{index}]", self, "the outermost position")

        wireline.Stack(MustBeOutermost(), Named("x"))
        with pytest.raises(wireline.ConfigError, match="expected the outermost position"):
            wireline.Stack(Named("x"), MustBeOutermost())

    def test_a_transport_must_be_a_spec(self) -> None:
        """A ready transport object is refused with what to do instead."""
        with pytest.raises(wireline.ConfigError, match="a base-transport spec"):
            wireline.Stack(transport=httpx.HTTPTransport())  # type: ignore[arg-type]


class TestBuilding:
    def test_builds_are_real_objects_of_each_flavour(self) -> None:
        """Each build is an instance of the flavour's own class."""
        stack = wireline.Stack(transport=MockTransport(echo))
        assert isinstance(stack.transport(), httpx.BaseTransport)
        assert isinstance(stack.transport("httpx2"), httpx2.BaseTransport)
        assert isinstance(stack.async_transport(), httpx.AsyncBaseTransport)
        assert isinstance(stack.async_transport("httpx2"), httpx2.AsyncBaseTransport)
        assert isinstance(stack.client(), httpx.Client)
        assert isinstance(stack.client("httpx2"), httpx2.Client)
        assert isinstance(stack.async_client(), httpx.AsyncClient)
        assert isinstance(stack.async_client("httpx2"), httpx2.AsyncClient)
        assert not isinstance(stack.client("httpx2"), httpx.Client)

    def test_client_kwargs_go_to_the_client(self) -> None:
        """Client settings pass through unchanged."""
        client = wireline.Stack(transport=MockTransport(echo)).client(
            timeout=60, headers={"x-app": "1"}, base_url="http://test", follow_redirects=True
        )
        assert client.timeout == httpx.Timeout(60)
        assert client.follow_redirects
        assert client.get("/").json()["x-app"] == "1"

    @pytest.mark.parametrize("key", ["verify", "http2", "limits", "proxy", "transport", "cert"])
    def test_settings_of_the_base_are_refused_on_the_client(self, key: str) -> None:
        """Settings httpx would ignore next to a transport, or that would bypass the stack, are refused."""
        with pytest.raises(wireline.ConfigError, match=rf"client\({key}=...\): expected no {key}= here"):
            wireline.Stack().client(**{key: object()})  # type: ignore[call-overload]

    def test_extensions_tag_every_request(self) -> None:
        """Extensions given to a build are put on every request, without overriding the request's own."""
        seen: list[Any] = []

        def look(request: Any) -> Any:
            seen.append(request.extensions.get("wireline.provider"))
            return wireline.respond(request)

        stack = wireline.Stack(transport=MockTransport(look))
        client = stack.client(extensions={"wireline.provider": "openai"})
        client.get("http://test/")
        client.get("http://test/", extensions={"wireline.provider": "mine"})
        assert seen == ["openai", "mine"]
        with pytest.raises(wireline.ConfigError, match="a mapping of request extensions"):
            stack.client(extensions=["x"])  # type: ignore[call-overload]

    def test_an_unknown_flavour_is_named(self) -> None:
        """A typo in the flavour is refused with the choices."""
        with pytest.raises(wireline.ConfigError, match=r"flavor: expected one of 'httpx', 'httpx2', got 'httpx3'"):
            wireline.Stack().client("httpx3")  # type: ignore[call-overload]

    def test_a_missing_flavour_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without httpx2 installed, building for it says which extra to install."""
        monkeypatch.setitem(sys.modules, "httpx2", None)
        monkeypatch.delitem(_flavors._flavors, "httpx2")
        with pytest.raises(wireline.MissingDependencyError, match=r"pip install 'wireline\[httpx2\]'"):
            wireline.Stack().client("httpx2")
        with pytest.raises(ImportError):
            wireline.Stack().async_transport("httpx2")
        monkeypatch.undo()
        importlib.import_module("httpx2")
        assert isinstance(wireline.Stack().client("httpx2"), httpx2.Client)
