"""``python -m benchmarks``: what the chain and the pool cost, side by side with bare clients and peers.

    python -m benchmarks                 # the full run (under 10 minutes)
    python -m benchmarks --quick         # under a minute: the main tables and every target it can judge
    python -m benchmarks --smoke         # a few seconds: every case once, tiny budgets, no targets
    python -m benchmarks --full --write-docs   # regenerate docs/performance.md's tables and charts

Results print as tables, then the targets as PASS / MISS lines; everything is also written as
JSON to benchmarks/results/. See docs/performance.md for the method.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import report
from benchmarks.plan import Mode, plan
from benchmarks.run import Options, Run, execute, load, log
from benchmarks.targets import SUMMARY_COLUMNS, judge, summary_rows

RESULTS = Path(__file__).parent / "results"


def parse(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--full", action="store_const", dest="mode", const="full", help="the full run (default)")
    modes.add_argument("--quick", action="store_const", dest="mode", const="quick", help="under a minute")
    modes.add_argument("--smoke", action="store_const", dest="mode", const="smoke", help="a few seconds, no targets")
    parser.add_argument("--rounds", type=int, help="measured rounds per group (median of these; default 5)")
    parser.add_argument("--seconds", type=float, help="budget per variant per round, in seconds")
    parser.add_argument(
        "--placement",
        choices=["auto", "split", "shared", "none"],
        default="auto",
        help="CPU placement of client and server (default auto: shared when sequential, split when concurrent)",
    )
    parser.add_argument(
        "--judge-on",
        choices=["cpu", "wall"],
        default="cpu",
        help="judge targets on the client's CPU time (default; robust on a shared machine) or on wall time",
    )
    parser.add_argument(
        "--base",
        default="http",
        help="the base transport stacks are built over: a registered name, or 'package.module:Class'",
    )
    parser.add_argument("--only", help="run only the groups whose key matches this regular expression")
    parser.add_argument(
        "--cases", help="run only the variants whose key matches this regular expression (and baselines)"
    )
    parser.add_argument("--note", default="", help="a note stored with the results (e.g. 'other jobs running')")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="where to write the JSON (default benchmarks/results)"
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="measure nothing: print (and with --write-docs, write) a saved run (benchmarks/results/latest-full.json)",
    )
    parser.add_argument("--list", action="store_true", help="list the mode's groups and their variants, run nothing")
    parser.add_argument("--write-docs", action="store_true", help="regenerate docs/performance.md's tables and charts")
    parser.add_argument("--docs-dir", type=Path, default=Path(__file__).parent.parent / "docs", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    mode: Mode = args.mode or "full"
    if args.rounds is not None and args.rounds < (1 if mode == "smoke" else 5):
        parser.error("--rounds: at least 5 (medians of fewer mean little)")
    options = Options.for_mode(
        mode,
        rounds=args.rounds,
        seconds=args.seconds,
        placement=args.placement,
        base=args.base,
        only=args.only,
        cases=args.cases,
        note=args.note,
    )
    return options, args


def print_run(run: Run, *, targets: bool) -> None:
    print("\n".join(report.header_lines(run)))
    for result in run.groups:
        print()
        print(f"== {result.group.title}  [{result.group.key}]")
        print(f"   {report.group_caption(result, run.options.rounds, run.options.seconds)}")
        print(report.text_table(report.group_columns(result), report.group_rows(result)))
    if run.memory:
        print()
        print(f"== Memory: {run.memory[0].requests:,} requests per variant, each in a fresh process [memory]")
        print(f"   placement: {run.memory[0].placement}")
        print(report.text_table(report.MEMORY_COLUMNS, report.memory_rows(run.memory)))
    if targets:
        print()
        print(
            f"== Summary: what each adds per request (client {'CPU' if run.options.judge_on == 'cpu' else 'wall'} µs)"
        )
        print(report.text_table(SUMMARY_COLUMNS, summary_rows(run)))
        print()
        metric = "the client's CPU time" if run.options.judge_on == "cpu" else "wall time"
        print(f"== Targets, judged on {metric} per unit [in brackets]; a figure near its limit deserves a re-run")
        for verdict in judge(run):
            print("\n".join(verdict.lines()))
    print()
    print(f"({run.elapsed:.0f} s)")


def list_plan(options: Options) -> None:
    for group in plan(options.mode):
        print(f"{group.key}: {group.title}")
        for key in group.cases:
            print(f"    {key}{' (baseline)' if key == group.baseline else ''}")


def main(argv: list[str] | None = None) -> int:
    options, args = parse(argv)
    if args.list:
        list_plan(options)
        return 0
    if args.from_json is not None:
        run = load(args.from_json)
        print_run(run, targets=run.options.mode != "smoke")
    else:
        run = execute(options, progress=log)
        print_run(run, targets=options.mode != "smoke")
        path = report.write_json(run, args.out)
        log(f"results written to {path}")
    if args.write_docs:
        from benchmarks import docs

        written = docs.write(run, args.docs_dir)
        log("docs written: " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
