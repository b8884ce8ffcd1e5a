"""Entry-point registration: built-ins, a third-party distribution, duplicates, unknown names."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import wireline
from wireline.registry import registry


@pytest.fixture
def install_fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Put a temporary distribution (a dist-info folder and a module) on sys.path."""

    def install(name: str, version: str, entry_points: str, module: str = "", code: str = "") -> None:
        root = tmp_path / name
        dist_info = root / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
        if module:
            (root / f"{module}.py").write_text(textwrap.dedent(code))
        monkeypatch.syspath_prepend(str(root))
        registry.refresh()

    yield install
    registry.refresh()


def test_builtins_are_registered_through_entry_points() -> None:
    """wireline's own layers and transports come from its pyproject's entry points, like anyone's."""
    headers = registry.get("middleware", "headers")
    assert headers.distribution == "wireline"
    assert headers.value == "wireline.middleware.headers:Headers"
    assert {"http", "mock"} <= set(registry.names("transports"))


def test_a_third_party_middleware_is_a_peer(install_fake_dist: Callable[..., None]) -> None:
    """A distribution registering a middleware is usable by name in config."""
    install_fake_dist(
        "acme-wireline",
        "1.2.0",
        """
        [wireline.middleware]
        acme-audit = acme_audit:Audit
        """,
        module="acme_audit",
        code="""
        from wireline.middleware import Middleware

        class Audit(Middleware):
            def __init__(self, *, team: str = "none") -> None:
                self.team = team

            def on_request(self, request):
                request.headers["x-audit"] = self.team
        """,
    )
    plugin = registry.get("middleware", "acme-audit")
    assert (plugin.distribution, plugin.version) == ("acme-wireline", "1.2.0")
    stack = wireline.Stack.from_config({"middleware": [{"use": "acme-audit", "team": "search"}]})
    assert repr(stack.layers[0]) == "Audit(team='search')"


def test_a_name_registered_twice_names_both_distributions(install_fake_dist: Callable[..., None]) -> None:
    """Two distributions claiming one name is an error that names both."""
    install_fake_dist(
        "rogue-headers",
        "0.9",
        """
        [wireline.middleware]
        headers = rogue:Headers
        """,
    )
    with pytest.raises(wireline.PluginError) as caught:
        wireline.Stack.from_config({"middleware": ["headers"]})
    message = str(caught.value)
    assert message.startswith("middleware[0].use: expected a name registered once")
    assert "wireline 0.1.0.dev0" in message
    assert "rogue-headers 0.9 (rogue:Headers)" in message
    assert registry.conflicts("middleware").keys() == {"headers"}


def test_an_unknown_name_lists_the_known_ones() -> None:
    """An unknown name is an error listing what is registered."""
    with pytest.raises(
        wireline.PluginError, match=r"middleware\[0\]\.use: expected a registered middleware name \(known: .*headers"
    ):
        wireline.Stack.from_config({"middleware": [{"use": "nope"}]})


def test_module_attribute_references_need_no_registration() -> None:
    """'module:attribute' loads any class, and a bad reference says what is wrong."""
    stack = wireline.Stack.from_config(
        {"middleware": [{"use": "wireline.middleware.headers:Headers", "remove": ["x"]}]}
    )
    assert stack.layers[0].remove == ("x",)  # type: ignore[attr-defined]
    with pytest.raises(wireline.PluginError, match="an importable module"):
        wireline.Stack.from_config({"middleware": ["no_such_module_xyz:Thing"]})
    with pytest.raises(wireline.PluginError, match="an attribute 'Nope' in module 'wireline'"):
        wireline.Stack.from_config({"middleware": ["wireline:Nope"]})


def test_a_third_party_provider_adapter_is_registered_by_module(install_fake_dist: Callable[..., None]) -> None:
    """The providers group names adapter modules (no ':attribute'); providers.build finds them by name."""
    install_fake_dist(
        "acme-llm",
        "0.3.0",
        """
        [wireline.providers]
        acme = acme_adapter
        """,
        module="acme_adapter",
        code="""
        def client(stack, **kwargs):
            return ("sync", kwargs)

        def async_client(stack, **kwargs):
            return ("async", kwargs)
        """,
    )
    stack = wireline.Stack()
    assert wireline.providers.build("acme", stack, api_key="k") == ("sync", {"api_key": "k"})
    assert wireline.providers.build("acme", stack, asynchronous=True) == ("async", {})
    with pytest.raises(wireline.PluginError, match=r"expected 'package\.module:attribute'"):
        wireline.Stack.from_config({"middleware": ["acme_adapter:"]})
