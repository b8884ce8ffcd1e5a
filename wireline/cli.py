"""The ``wireline`` command: ``plugins``, ``explain URL``, ``demo``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import wireline
from wireline.errors import ConfigError
from wireline.registry import GROUPS, registry

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="wireline", description="Control the HTTP layer of every LLM SDK.")
    parser.add_argument("--version", action="version", version=f"wireline {wireline.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plugins = commands.add_parser("plugins", help="list registered middleware, transports and providers")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")

    explain = commands.add_parser("explain", help="show what a stack would do to a request for URL")
    explain.add_argument("url")
    explain.add_argument(
        "--config",
        type=Path,
        help="a wireline.toml or pyproject.toml (default: ./wireline.toml, else ./pyproject.toml's "
        "[tool.wireline], else a default stack)",
    )

    commands.add_parser("demo", help="run wireline against an embedded imitation LLM API")

    args = parser.parse_args(argv)
    try:
        if args.command == "plugins":
            return _plugins(as_json=args.json)
        if args.command == "explain":
            return _explain(args.url, args.config)
        from wireline._demo import main as demo

        return demo()
    except ConfigError as exc:
        print(f"wireline: {exc}", file=sys.stderr)
        return 2


def _plugins(*, as_json: bool) -> int:
    rows = [plugin for group in GROUPS for plugin in registry.entries(group)]
    conflicts = {(group, name) for group in GROUPS for name in registry.conflicts(group)}
    if as_json:
        payload = [
            {
                "group": p.group,
                "name": p.name,
                "value": p.value,
                "distribution": p.distribution,
                "version": p.version,
                "conflict": (p.group, p.name) in conflicts,
            }
            for p in rows
        ]
        print(json.dumps(payload, indent=2))
        return 1 if conflicts else 0
    for group in GROUPS:
        entries = registry.entries(group)
        print(f"{GROUPS[group]} ({len(entries)})")
        for p in entries:
            mark = "  CONFLICT: registered more than once" if (group, p.name) in conflicts else ""
            print(f"  {p.name:<20} {p.value:<55} {p.origin}{mark}")
        if not entries:
            print("  (none)")
    if conflicts:
        print("\nnames registered by more than one distribution cannot be used by name; see the CONFLICT lines")
        return 1
    return 0


def _explain(url: str, config: Path | None) -> int:
    if config is None:
        for candidate in (Path("wireline.toml"), Path("pyproject.toml")):
            if candidate.is_file() and (candidate.name == "wireline.toml" or "[tool.wireline" in candidate.read_text()):
                config = candidate
                break
    if config is not None:
        print(f"stack from {config}")
        stack = wireline.load(config)
    else:
        print("no config given or found: the default stack")
        stack = wireline.Stack()
    for line in stack.explain(url):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
