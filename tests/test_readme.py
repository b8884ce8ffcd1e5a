"""The README's promises: its two commands are what CI runs, and its example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run runs the README's second command, word for word."""
    commands = re.findall(r"^```bash\n(.*?)\n```", README, re.MULTILINE | re.DOTALL)
    assert len(commands) >= 2
    demo, tests = commands[0], commands[1]
    assert demo.endswith("wireline demo")
    assert tests.endswith("scripts/check")
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The short example runs as written: it prints the stack, both SDKs' answers, and log events."""
    [example] = re.findall(r"^```python\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
    exec(compile(example, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert out.startswith("Stack (outermost first):\n  1. Logging()\n  2. Retry(")
    assert out.count("wireline sent this through every layer") == 2  # the OpenAI and Anthropic answers
    assert out.count("http.call") == 3  # structlog's default output: one event per call
