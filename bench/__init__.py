"""Benchmarks: one script per measurement (README.md has how to run them and the results)."""
