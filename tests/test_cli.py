"""The wireline command, run as a user runs it: as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def wireline(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wireline", *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


@pytest.mark.slow
def test_demo_runs_and_exits_zero() -> None:
    """`wireline demo` starts its server, runs every scene, and exits 0."""
    result = wireline("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== the stack" in result.stdout
    assert "FAIL" not in result.stdout
    assert ", 0 failed" in result.stdout


def test_plugins_lists_each_group_with_its_distribution() -> None:
    """`wireline plugins` shows what is registered in each group and where it comes from."""
    result = wireline("plugins")
    assert result.returncode == 0, result.stderr
    assert "wireline.middleware" in result.stdout
    assert "headers" in result.stdout
    assert "wireline.transports:http" not in result.stdout
    rows = json.loads(wireline("plugins", "--json").stdout)
    http = next(row for row in rows if row["group"] == "transports" and row["name"] == "http")
    assert http["distribution"] == "wireline"
    assert http["value"] == "wireline.transports.http:HTTPTransport"
    assert not http["conflict"]


def test_explain_shows_layers_and_base_for_a_url(tmp_path: Path) -> None:
    """`wireline explain URL --config FILE` walks the stack from the file, secrets redacted."""
    config = tmp_path / "wireline.toml"
    config.write_text(
        '[transport]\nproxy = "http://alice:s3cret@proxy.corp:3128"\n\n'
        '[[middleware]]\nuse = "headers"\nset = { x-team = "search" }\n'
    )
    result = wireline("explain", "https://api.openai.com/v1/chat/completions", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "1. Headers(set={'x-team': 'search'})" in result.stdout
    assert "through the proxy http://REDACTED:REDACTED@proxy.corp:3128" in result.stdout
    assert "s3cret" not in result.stdout


def test_explain_finds_the_config_in_the_working_directory(tmp_path: Path) -> None:
    """Without --config, explain reads ./wireline.toml."""
    (tmp_path / "wireline.toml").write_text('[[middleware]]\nuse = "headers"\nremove = ["x-debug"]\n')
    result = wireline("explain", "http://localhost/", cwd=tmp_path)
    assert "stack from wireline.toml" in result.stdout
    assert "removes x-debug" in result.stdout


def test_a_bad_config_exits_2_with_the_path() -> None:
    """Config errors are printed with their path and exit 2, without a traceback."""
    result = wireline("explain", "http://x/", "--config", "/no/such/wireline.toml")
    assert result.returncode == 2
    assert result.stderr.startswith("wireline: /no/such/wireline.toml: expected a readable TOML file")
    assert "Traceback" not in result.stderr
