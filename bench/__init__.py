"""Benchmarks (`make bench`, `python -m bench`): never part of `make test`. See README.md."""
