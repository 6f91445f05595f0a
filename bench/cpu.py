"""Where the CPU went during a run: each process tree's user+system time from /proc (Linux).

On a machine where the load generator, the services, their workers, Kafka, PostgreSQL and Redis
share a few cores, throughput is mostly a question of who takes them; this tells which.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_stat(text: str) -> tuple[int, int]:
    """(parent pid, utime + stime in clock ticks) from the text of /proc/<pid>/stat."""
    # The command name (field 2) is in parentheses and may contain spaces: split after its last ')'.
    rest = text[text.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])


def _all_processes() -> dict[int, tuple[int, int]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = parse_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return table


def tree_ticks(roots: Mapping[str, int | None], table: Mapping[int, tuple[int, int]]) -> dict[str, int]:
    """Clock ticks used so far by each named process and its descendants (alive ones)."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    used = {}
    for name, root in roots.items():
        total, stack, seen = 0, [root] if root in table else [], set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += table[pid][1]
            stack.extend(children.get(pid, ()))
        used[name] = total
    return used


def busy_ticks(stat_text: str) -> int:
    """All CPUs' busy time (everything but idle and iowait) from the first line of /proc/stat."""
    values = [int(v) for v in stat_text.splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    # guest time is already counted in user and nice
    return sum(values[:8]) - idle


@dataclass
class CpuMeter:
    """`start()`, run the load, `stop()` → cores busy on average per process tree, and on the rest of
    the machine (`other`: whatever else runs on it, the bench driver included)."""
    roots: Callable[[], Mapping[str, int | None]]
    reaped_as: str = "wrk"  # children this process waited for during the run (the load generator)
    _start: dict[str, int] = field(default_factory=dict)
    _busy: int = 0
    _reaped: float = 0.0
    _t0: float = 0.0

    def start(self) -> None:
        self._start = tree_ticks(self.roots(), _all_processes())
        self._busy = busy_ticks(Path("/proc/stat").read_text())
        times = os.times()
        self._reaped = times.children_user + times.children_system
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._t0
        now = tree_ticks(self.roots(), _all_processes())
        times = os.times()
        used = {name: max(0, now.get(name, 0) - self._start.get(name, 0)) / CLOCK_TICKS for name in now}
        used[self.reaped_as] = times.children_user + times.children_system - self._reaped
        busy = (busy_ticks(Path("/proc/stat").read_text()) - self._busy) / CLOCK_TICKS
        used["other"] = max(0.0, busy - sum(used.values()))
        return {name: seconds / elapsed for name, seconds in used.items()} if elapsed > 0 else {}
