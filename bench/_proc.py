"""CPU accounting for the benchmarks, from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def session_cpu_seconds(session_ids: set[int]) -> float:
    """User + system CPU of every process in these sessions (a server and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after "pid (comm)": state ppid pgrp session ... utime(12) stime(13)
        if int(fields[3]) in session_ids:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_cpu_seconds() -> float:
    """CPU time the whole machine spent not idle (all CPUs), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def command_cpu_seconds(command: str) -> float:
    """User + system CPU of every process whose command name is ``command`` (e.g. "postgres": the
    server and all its backends, the ones that ended since included only while they lived)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] == command:
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def own_cpu_seconds() -> float:
    """User + system CPU of this process (all its threads)."""
    times = os.times()
    return times.user + times.system
