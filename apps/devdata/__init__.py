"""Synthetic data for benchmarks and load tests: installed by the dev and test settings only."""
