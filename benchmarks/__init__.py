"""Benchmarks: timing and quality runs kept apart from the tests; results in BENCHMARKS.md."""
