"""ProxyRouter's matching, without I/O: URL patterns, NO_PROXY, the proxy variables."""

from __future__ import annotations

import urllib.request

import pytest
from hypothesis import given, strategies as st

import wireline
from wireline.middleware._proxy_rules import NoProxy, UrlPattern, environment_proxies, proxy_label

# Host labels start with a letter, so a generated name is never an IP address (those match as addresses).
label = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
domain = st.lists(label, min_size=1, max_size=4).map(".".join)


# -- URL patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        ("*", ("https", "api.openai.com", 443), True),
        ("all://", ("http", "x", 80), True),
        ("https://*", ("https", "x", 443), True),
        ("https://*", ("http", "x", 80), False),
        ("*.openai.azure.com", ("https", "eu.openai.azure.com", 443), True),
        ("*.openai.azure.com", ("https", "openai.azure.com", 443), False),  # a glob: the dot is literal
        ("https://api.example.com", ("https", "API.Example.com", 443), True),
        ("https://api.example.com", ("https", "api.example.com.evil", 443), False),
        ("http://localhost:8080", ("http", "localhost", 8080), True),
        ("http://localhost:8080", ("http", "localhost", 80), False),
        ("*:8443", ("https", "anything", 8443), True),
        ("*://[::1]", ("http", "::1", 80), True),
        ("https://api-*.example.com", ("https", "api-eu.example.com", 443), True),
        ("*.example.com", ("https", "a.b.example.com", 443), True),
    ],
)
def test_patterns(pattern: str, url: tuple[str, str, int], expected: bool) -> None:
    assert UrlPattern.parse(pattern).matches(*url) is expected


@pytest.mark.parametrize(
    "pattern", ["", "https://x/path", "http://user:pw@proxy", "ht tp://x", "http://x:port", "api-?.x", 3]
)
def test_bad_patterns_are_refused(pattern: object) -> None:
    with pytest.raises(wireline.ConfigError, match=r"expected a URL pattern such as"):
        UrlPattern.parse(pattern)  # type: ignore[arg-type]


def test_the_most_specific_pattern_wins() -> None:
    patterns = [UrlPattern.parse(text) for text in ["*", "https://*", "*.example.com", "api.example.com", "*:8443"]]
    ranked = sorted(patterns, key=lambda pattern: pattern.specificity, reverse=True)
    assert [pattern.text for pattern in ranked] == ["*:8443", "api.example.com", "*.example.com", "https://*", "*"]


@given(host=domain, scheme=st.sampled_from(["http", "https"]), port=st.integers(1, 65535))
def test_catch_all_matches_every_url(host: str, scheme: str, port: int) -> None:
    assert UrlPattern.parse("*").matches(scheme, host, port)


# -- NO_PROXY ----------------------------------------------------------------------------------------


@given(entry=domain, host=domain, dot=st.sampled_from(["", "."]))
def test_no_proxy_domains_match_as_urllib_and_curl_do(entry: str, host: str, dot: str) -> None:
    """A domain entry, bare or with a leading dot, matches the domain and its subdomains."""
    value = f"{dot}{entry}"
    ours = NoProxy(value).matches(host, 443)
    reference = bool(urllib.request.proxy_bypass_environment(host, {"no": value}))  # type: ignore[attr-defined]
    assert ours == reference
    assert ours == (host == entry or host.endswith("." + entry))
    # httpx's glob form means the same here (urllib would take the "*" literally).
    assert NoProxy(f"*.{entry}").matches(host, 443) == ours


@given(entry=domain, sub=label)
def test_no_proxy_covers_subdomains_and_ignores_case(entry: str, sub: str) -> None:
    rule = NoProxy(f"other.test, {entry}")
    assert rule.matches(entry.upper(), 80)
    assert rule.matches(f"{sub}.{entry}", 80)
    assert rule.matches(f"{sub}.{entry}.", 80)  # a trailing dot names the same host
    assert not rule.matches(f"{sub}{entry}x", 80) or f"{sub}{entry}x".endswith("." + entry)


@given(a=st.integers(0, 255), b=st.integers(0, 255), prefix=st.integers(8, 32))
def test_no_proxy_cidr_blocks(a: int, b: int, prefix: int) -> None:
    rule = NoProxy(f"10.{a}.0.0/{prefix}")
    assert rule.matches(f"10.{a}.0.0", 80)
    assert not rule.matches("11.0.0.1", 80)
    assert not rule.matches(f"10.{a}.0.0.example.com", 80)


@pytest.mark.parametrize(
    ("value", "host", "port", "expected"),
    [
        ("*", "anything.example", 443, True),
        ("localhost,127.0.0.1", "127.0.0.1", 8080, True),
        ("::1", "::1", 80, True),
        ("[::1]", "[::1]", 80, True),
        ("192.168.0.0/16", "192.168.10.20", 80, True),
        ("example.com:8080", "example.com", 8080, True),
        ("example.com:8080", "example.com", 443, False),
        ("example.com", "notexample.com", 443, False),
        ("http://internal.corp", "api.internal.corp", 443, True),
        ("  , ,", "example.com", 443, False),
    ],
)
def test_no_proxy_forms(value: str, host: str, port: int, expected: bool) -> None:
    assert NoProxy(value).matches(host, port) is expected


# -- the variables ------------------------------------------------------------------------------


def test_proxy_variables_are_read_as_httpx_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp:3128")
    monkeypatch.setenv("https_proxy", "http://lower.corp:3128")
    monkeypatch.setenv("ALL_PROXY", "socks5://all.corp:1080")
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert environment_proxies() == {
        "https": "http://lower.corp:3128",  # lower case wins
        "all": "socks5://all.corp:1080",
        "no": "localhost",
    }
    monkeypatch.setenv("REQUEST_METHOD", "GET")  # a CGI request: HTTP_PROXY could come from a header
    monkeypatch.setenv("HTTP_PROXY", "http://attacker:1")
    assert "http" not in environment_proxies()


def test_a_proxy_label_never_holds_credentials() -> None:
    assert proxy_label("http://user:secret@proxy.corp:3128") == "http://proxy.corp:3128"
    assert proxy_label("socks5://proxy:1080/") == "socks5://proxy:1080"
