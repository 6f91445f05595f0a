"""Benchmarks of Guichet (`make bench`, `python -m bench.run`): measurements, never tests."""
