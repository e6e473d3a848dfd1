"""Benchmarks: each prints our figure beside the bare operation that does the same work (README.md)."""
