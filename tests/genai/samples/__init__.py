"""Response bodies of each provider's API, JSON and streamed, written from the providers' public
API references and SDK types (field for field, values invented), for the GenAI parser tests and
for Tracing's end-to-end GenAI tests."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def sample(name: str) -> bytes:
    """The raw body of the sample file ``name``."""
    return (HERE / name).read_bytes()
