"""``kabinet bench-data``: the hyphenated name of ``bench_data`` (Django finds commands by module name)."""

from kabinet.billing.management.commands.bench_data import Command

__all__ = ["Command"]
