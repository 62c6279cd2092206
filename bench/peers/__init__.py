"""Peers the benchmarks measure in the same run (see docs/benchmarks.md)."""
