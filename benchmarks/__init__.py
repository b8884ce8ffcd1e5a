"""The benchmarks: ``python -m benchmarks`` (``--quick``, ``--smoke``; see docs/performance.md)."""
