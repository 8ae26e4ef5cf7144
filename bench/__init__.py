"""Benchmarks of the twosigma server against raw baselines. See docs/performance.md."""
