"""The docs' examples run: every ```python block of a page, in order, in one namespace per page.

A block fenced as ```python skip is shown but not run (it needs a real API key, say).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"
BLOCK = re.compile(r"^```python[ \t]*(?P<info>[^\n]*)\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)
PAGES = sorted(page for page in DOCS.glob("*.md") if BLOCK.search(page.read_text()))


def blocks(page: Path) -> list[str]:
    return [m["code"] for m in BLOCK.finditer(page.read_text()) if "skip" not in m["info"].split()]


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_examples_run(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each page's examples run top to bottom without error (their asserts included)."""
    code = blocks(page)
    assert code, f"{page.name} has no runnable example"
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for index, source in enumerate(code):
        exec(compile(source, f"{page.name}[block {index}]", "exec"), namespace)  # noqa: S102 - the docs are ours
