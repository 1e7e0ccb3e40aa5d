"""Benchmarks of the platform's spine (``python -m bench.spine``); see docs/benchmarks.md."""
