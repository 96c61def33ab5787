"""Benchmarks: each module runs the project and its reference side by side and prints ratios."""
