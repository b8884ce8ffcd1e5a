"""The pooling-overhead benchmarks: ``python -m benchmarks`` (see benchmarks/README.md)."""
