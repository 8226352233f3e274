"""Benchmarks (`make bench` runs `python -m bench`): each module with a ``main()`` is one benchmark."""
