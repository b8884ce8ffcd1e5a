"""The example package of docs/transports.md, installed as a distribution, is a base transport like the built-ins."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import wireline
from wireline.registry import registry

PAGE = Path(__file__).parent.parent.parent / "docs" / "transports.md"
BLOCK = re.compile(r"^```(?P<lang>\w+)[ \t]*(?P<info>[^\n]*)\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)


def block(key: str) -> str:
    """The block of the page whose info string has ``key`` (``file=...`` or ``example=...``)."""
    [code] = [m["code"] for m in BLOCK.finditer(PAGE.read_text()) if key in m["info"].split()]
    return code


@pytest.fixture
def acme_transports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The page's pyproject and module, installed as a distribution (a dist-info on sys.path)."""
    project = tomllib.loads(block("file=pyproject.toml"))["project"]
    name, version = project["name"], project["version"]
    dist_info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in names.items())
        for group, names in project["entry-points"].items()
    )
    (dist_info / "entry_points.txt").write_text(entry_points)
    (tmp_path / "acme_transports.py").write_text(block("file=acme_transports.py"))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    yield
    registry.refresh()


@pytest.mark.usefixtures("acme_transports")
def test_the_documented_package_registers_a_base_transport(capsys: pytest.CaptureFixture[str]) -> None:
    """Its entry point names the class; the page's usage example runs against it, sync and async."""
    plugin = registry.get("transports", "acme-async-fast")
    assert (plugin.distribution, plugin.version) == ("acme-transports", "1.0.0")
    exec(compile(block("example=acme-transports"), "transports.md[example]", "exec"), {"__name__": "docs_example"})  # noqa: S102 - the docs are ours
    assert "base: AsyncFast(retries=1)" in capsys.readouterr().out


@pytest.mark.usefixtures("acme_transports")
def test_its_settings_are_checked_like_the_built_ins() -> None:
    """The shared settings, and what its aiohttp half refuses, are checked when it is made from config."""
    with pytest.raises(wireline.ConfigError, match=r"^transport\.http2: expected false: aiohttp speaks HTTP/1\.1"):
        wireline.Stack.from_config({"transport": {"use": "acme-async-fast", "http2": True}})
    with pytest.raises(wireline.ConfigError, match=r"^transport\.retries: expected a whole number"):
        wireline.Stack.from_config({"transport": {"use": "acme-async-fast", "retries": "two"}})
