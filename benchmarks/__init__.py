"""Benchmarks that drive the real app at production scale; run them as `python -m benchmarks.X`."""
