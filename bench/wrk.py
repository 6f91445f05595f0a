"""wrk as the load tool: install it, run a script until its work is done, read what it measured.

wrk (a Debian package) runs its Lua scripts in its own threads, apart from the Python processes
it loads. The submission script (bench/lua/submit.lua) sends a fixed list of requests and records
every answer; the listing script (bench/lua/listing.lua) runs for a duration. The parsing
functions here are pure and unit-tested (tests/unit/test_bench_scripts.py).
"""
from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.waiting import WaitTimedOut, wait_until

LUA_DIR = Path(__file__).resolve().parent / "lua"
SUBMIT_SCRIPT = LUA_DIR / "submit.lua"
LISTING_SCRIPT = LUA_DIR / "listing.lua"


class WrkMissing(RuntimeError):
    pass


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's package when missing and apt-get is usable (as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise WrkMissing("wrk is not installed: `sudo apt-get install -y wrk` (Debian/Ubuntu), then re-run")
    print("installing wrk (apt-get install -y wrk) …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([apt, "install", "-y", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run([apt, "update"], env=env, capture_output=True, check=False)
        subprocess.run([apt, "install", "-y", "wrk"], env=env, capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkMissing("apt-get installed wrk but it is not on PATH")
    return found


# -- running ---------------------------------------------------------------------------------------

def wrk_command(binary: str, script: Path, url: str, *, threads: int, connections: int, duration_s: float,
                timeout_s: float = 10.0) -> list[str]:
    return [binary, f"-t{threads}", f"-c{connections}", f"-d{math.ceil(duration_s)}s", f"--timeout={timeout_s:g}s",
            "--latency", "-s", str(script), url]


def run_submissions(binary: str, url: str, requests_file: Path, out_dir: Path, *, threads: int, connections: int,
                    cap_seconds: float, log: Path) -> str:
    """Send every request of the file once; return wrk's output. Stops wrk (SIGINT: it still reports)
    when every thread is done, or after `cap_seconds` whatever is left."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in list(out_dir.glob("thread-*")):
        stale.unlink()
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_OUT": str(out_dir),
           "BENCH_THREADS": str(threads)}
    command = wrk_command(binary, SUBMIT_SCRIPT, url, threads=threads, connections=connections,
                          duration_s=cap_seconds + 5)
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: process.poll() is not None or len(list(out_dir.glob("thread-*.done"))) >= threads,
                       timeout=cap_seconds, interval=0.05, what="every wrk thread done")
        except WaitTimedOut:
            pass  # the cap: wrk is stopped below and reports what it sent
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return log.read_text()


def run_for(binary: str, script: Path, url: str, env: Mapping[str, str], *, threads: int, connections: int,
            duration_s: float, log: Path) -> str:
    command = wrk_command(binary, script, url, threads=threads, connections=connections, duration_s=duration_s)
    with open(log, "w") as output:
        subprocess.run(command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT,
                       timeout=duration_s + 60, check=True)
    return log.read_text()


# -- reading wrk's own report ------------------------------------------------------------------------

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def duration_to_us(text: str) -> float:
    """wrk's durations: `812.00us`, `3.92ms`, `1.42s`, `2.00m`."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_US[match.group(2)]


@dataclass(frozen=True)
class WrkReport:
    requests: int
    duration_s: float
    requests_per_second: float | None
    socket_errors: dict[str, int]
    non_2xx: int
    percentiles_us: dict[float, float]  # from --latency's distribution, and the bench-summary line
    statuses: dict[str, int] = field(default_factory=dict)  # from the bench-summary line, when the script counts

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())


def parse_wrk_output(text: str) -> WrkReport:
    """wrk's text report, and the `bench-summary key=value …` line the bench's scripts print in done()."""
    summary: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("bench-summary "):
            summary = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
    totals = re.search(r"(\d+) requests in ([\d.]+\w+),", text)
    if totals:
        requests, duration_s = int(totals.group(1)), duration_to_us(totals.group(2)) / 1e6
    elif summary:
        requests, duration_s = int(summary["requests"]), int(summary["duration_us"]) / 1e6
    else:
        raise ValueError("no wrk report in this output")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    socket_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if errors:
        socket_errors = dict(zip(socket_errors, map(int, errors.groups())))
    elif summary:
        socket_errors = {name: int(summary.get(name, 0)) for name in socket_errors}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    percentiles = {float(p): duration_to_us(v) for p, v in re.findall(r"^\s+([\d.]+)%\s+([\d.]+\w+)\s*$", text, re.M)}
    for name, value in summary.items():
        match = re.fullmatch(r"p([\d.]+)_us", name)
        if match:
            percentiles[float(match.group(1))] = float(value)
    statuses = {name.removeprefix("status_"): int(value) for name, value in summary.items()
                if name.startswith("status_")}
    return WrkReport(requests, duration_s, float(rate.group(1)) if rate else None, socket_errors,
                     int(non_2xx.group(1)) if non_2xx else 0, percentiles, statuses)


# -- reading the submission script's records -------------------------------------------------------------

@dataclass
class Records:
    latencies_us: dict[str, list[int]] = field(default_factory=dict)  # by category: 202, 202-replay, 409:code…
    first_sent_us: int = 0
    last_answered_us: int = 0
    planned: int = 0
    sent: int = 0
    answered: int = 0


def parse_records(lines: Iterable[str], into: Records | None = None) -> Records:
    records = into or Records()
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        kind, name, value = parts
        if kind == "r":
            records.latencies_us.setdefault(name, []).append(int(float(value)))
        elif kind == "m" and name == "first_sent":
            value_us = int(float(value))
            if value_us and (not records.first_sent_us or value_us < records.first_sent_us):
                records.first_sent_us = value_us
        elif kind == "m" and name == "last_answered":
            records.last_answered_us = max(records.last_answered_us, int(float(value)))
        elif kind == "m" and name in ("planned", "sent", "answered"):
            setattr(records, name, getattr(records, name) + int(float(value)))
    return records


def read_records(out_dir: Path) -> Records:
    records = Records()
    for path in sorted(out_dir.glob("thread-*.tsv")):
        parse_records(path.read_text().splitlines(), records)
    return records


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0–100) of the values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class SubmissionStats:
    planned: int
    sent: int  # fewer than planned when the run hit its time cap
    answered: int
    span_s: float  # first request sent → last answer
    by_category: dict[str, int]
    accepted: int  # fresh 202s: an application acknowledged
    replayed: int  # 202s replayed for a retried Idempotency-Key
    p50_ms: float | None  # of the fresh 202s
    p95_ms: float | None
    p99_ms: float | None
    shed_p99_ms: float | None = None  # of the 503 intake-saturated answers (load shedding), sent → answered

    @property
    def responses_per_second(self) -> float:
        return self.answered / self.span_s if self.span_s else 0.0

    @property
    def accepted_per_second(self) -> float:
        return self.accepted / self.span_s if self.span_s else 0.0

    def count_status(self, status: int) -> int:
        return sum(n for category, n in self.by_category.items() if category.split(":")[0] == str(status))

    @property
    def unanswered(self) -> int:
        """Sent but never answered (lost to a timeout or a closed connection)."""
        return self.sent - self.answered

    @property
    def not_sent(self) -> int:
        return self.planned - self.sent


SHED_CATEGORY = "503:intake-saturated"


def submission_stats(records: Records) -> SubmissionStats:
    by_category = Counter({category: len(values) for category, values in records.latencies_us.items()})
    accepted = records.latencies_us.get("202", [])

    def ms(q: float) -> float | None:
        value = percentile(accepted, q)
        return None if value is None else value / 1000

    span_s = max(0, records.last_answered_us - records.first_sent_us) / 1e6
    shed_p99 = percentile(records.latencies_us.get(SHED_CATEGORY, []), 99)
    return SubmissionStats(records.planned, records.sent, records.answered, span_s, dict(sorted(by_category.items())),
                           len(accepted), by_category.get("202-replay", 0), ms(50), ms(95), ms(99),
                           None if shed_p99 is None else shed_p99 / 1000)
