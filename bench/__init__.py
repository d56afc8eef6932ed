"""Benchmark harness for chronolake (issue 5): workloads W1-W3 of shared/BENCHMARKS.md.

Run ``make bench`` (full scale) or ``make bench-quick`` (small scale smoke run), or
``python -m bench --help``.
"""
