"""Stacks from configuration: the shape, files, and errors that name the path, the value and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import wireline
from wireline.middleware import Headers
from wireline.transports import HTTPTransport, Limits


def test_the_documented_shape_builds_a_stack() -> None:
    """Names resolve through the registry; settings reach the constructors."""
    stack = wireline.Stack.from_config(
        {
            "transport": {"use": "http", "http2": True, "limits": {"max_connections": 10}},
            "middleware": ["headers", {"use": "headers", "set": {"x-team": "search"}}],
        }
    )
    assert isinstance(stack.base, HTTPTransport)
    assert stack.base.http2
    assert stack.base.limits == Limits(max_connections=10)
    assert [type(layer) for layer in stack.layers] == [Headers, Headers]
    assert stack.layers[1].set == {"x-team": "search"}  # type: ignore[attr-defined]


def test_transport_defaults_to_http_and_may_be_a_name() -> None:
    """Without "use", the transport is http; a bare name works too."""
    assert isinstance(wireline.Stack.from_config({"transport": {"retries": 2}}).base, HTTPTransport)
    assert isinstance(wireline.Stack.from_config({"transport": "http"}).base, HTTPTransport)
    assert isinstance(wireline.Stack.from_config({}).base, HTTPTransport)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"middleware": [{"use": "headers", "sett": {}}]},
            "middleware[0].sett: expected a setting of Headers (accepted: set, default, remove), got {} (dict)",
        ),
        (
            {"middleware": [{"use": "headers", "remove": "x-a"}]},
            "middleware[0].remove: expected a list of strings, got 'x-a' (str)",
        ),
        (
            {"middleware": [{"use": "headers", "set": {"a": 1}}]},
            "middleware[0].set: expected a table of strings or nothing (null), got {'a': 1} (dict)",
        ),
        ({"middleware": {"use": "headers"}}, "middleware: expected a list of middleware tables, outermost first"),
        (
            {"middleware": [42]},
            "middleware[0]: expected a table with 'use' (a registered name) and its settings, got 42 (int)",
        ),
        (
            {"middleware": [{"set": {}}]},
            "middleware[0].use: expected a registered name (see `wireline plugins`) or 'module:attribute', got None",
        ),
        ({"transport": {"http2": "yes"}}, "transport.http2: expected true or false, got 'yes' (str)"),
        (
            {"transport": {"limits": {"max_connections": 0}}},
            "transport.limits.max_connections: expected a whole number >= 1, or None for no limit, got 0 (int)",
        ),
        (
            {"transport": {"limits": {"max_conns": 5}}},
            "transport.limits.max_conns: expected one of the keys max_connections",
        ),
        (
            {"transport": {"retries": -1}},
            "transport.retries: expected a whole number of connection retries >= 0, got -1 (int)",
        ),
        (
            {"transport": {"proxy": "ftp://x"}},
            "transport.proxy: expected a proxy URL with a host and a scheme among http, https, socks5, socks5h",
        ),
        (
            {"transport": {"proxy": "http://u:secret@x:99999"}},
            (
                "transport.proxy: expected a proxy URL such as 'http://proxy.corp:3128', "
                "got 'http://REDACTED:REDACTED@x:99999' (str)"
            ),
        ),
        (
            {"transport": {"verify": "/no/such/ca.pem"}},
            "transport.verify: expected a CA bundle file or directory that exists",
        ),
        ({"transprot": {}}, "transprot: expected only the keys transport, middleware at the top level"),
    ],
)
def test_errors_name_the_path_the_value_and_what_was_expected(config: dict[str, Any], message: str) -> None:
    """Each bad value is one ConfigError whose message starts with its path."""
    with pytest.raises(wireline.ConfigError) as caught:
        wireline.Stack.from_config(config)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "secret" not in str(caught.value)


def test_load_reads_a_toml_file(tmp_path: Path) -> None:
    """wireline.load reads a wireline.toml."""
    path = tmp_path / "wireline.toml"
    path.write_text('[transport]\nhttp2 = true\n\n[[middleware]]\nuse = "headers"\nset = { x-team = "search" }\n')
    stack = wireline.load(path)
    assert stack.base.http2  # type: ignore[attr-defined]
    assert stack.layers[0].set == {"x-team": "search"}  # type: ignore[attr-defined]


def test_load_reads_the_tool_table_of_a_pyproject(tmp_path: Path) -> None:
    """In a pyproject.toml the config lives under [tool.wireline], and errors say so."""
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "app"\n\n[[tool.wireline.middleware]]\nuse = "headers"\nremove = [1]\n')
    with pytest.raises(wireline.ConfigError) as caught:
        wireline.load(path)
    assert str(caught.value).startswith(
        f"{path}: tool.wireline.middleware[0].remove: expected a list of strings, got [1]"
    )
    path.write_text('[project]\nname = "app"\n')
    with pytest.raises(wireline.ConfigError, match=r"tool.wireline: expected a \[tool.wireline\] table"):
        wireline.load(path)


def test_load_refuses_a_missing_or_broken_file(tmp_path: Path) -> None:
    """Unreadable files and bad TOML are ConfigErrors that name the file."""
    with pytest.raises(wireline.ConfigError, match="expected a readable TOML file"):
        wireline.load(tmp_path / "absent.toml")
    broken = tmp_path / "wireline.toml"
    broken.write_text("[transport\n")
    with pytest.raises(wireline.ConfigError, match=rf"^{broken}: expected valid TOML"):
        wireline.load(broken)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=False), st.text(max_size=12))
_names = st.sampled_from(
    [
        "use",
        "http",
        "headers",
        "mock",
        "transport",
        "middleware",
        "limits",
        "http2",
        "set",
        "remove",
        "default",
        "verify",
        "retries",
        "max_connections",
        "uds",
        "proxy",
        "handler",
    ]
)
_values = st.recursive(
    _scalars | _names,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names | st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.dictionaries(_names, _values, max_size=3))
def test_fuzzed_configs_build_or_raise_config_error(config: dict[str, Any]) -> None:
    """Whatever the mapping, from_config returns a Stack or raises ConfigError, never anything else."""
    try:
        stack = wireline.Stack.from_config(config)
    except wireline.ConfigError as exc:
        assert str(exc)
    else:
        assert isinstance(stack, wireline.Stack)


@settings(max_examples=200, deadline=None)
@given(layer=st.dictionaries(st.sampled_from(["use", "set", "default", "remove"]), _values, max_size=4))
def test_fuzzed_middleware_entries_build_or_raise_config_error(layer: dict[str, Any]) -> None:
    """Fuzzing one middleware entry of a known name: a Stack or a ConfigError with a path."""
    layer = {**layer, "use": "headers"}
    try:
        wireline.Stack.from_config({"middleware": [layer]})
    except wireline.ConfigError as exc:
        assert str(exc).startswith("middleware[0]")
