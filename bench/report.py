"""The bench's tables, as markdown, and their place in docs/PERFORMANCE.md (pure functions).

docs/PERFORMANCE.md is shared: each benchmark owns its `## ` sections and replaces only those,
leaving the others (e.g. "Allocation core") as they are.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

INTAKE, HELLO, LISTING = "Intake", "Hello-world baseline", "Public listing"
DOCUMENT_TITLE = "# Performance"
DOCUMENT_INTRO = ("Measured, not claimed: each section is written by the benchmark named in it and replaced "
                  "when that benchmark runs again. How to run them and what they measure: "
                  "[benchmarks.md](benchmarks.md).")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def ms(value_ms: float | None) -> str:
    return "–" if value_ms is None else (f"{value_ms:.0f}" if value_ms >= 100 else f"{value_ms:.1f}")


def ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "–"
    return f"{numerator / denominator:.2f}"


@dataclass(frozen=True)
class RunContext:
    command: str
    cores: int
    cpu: str
    date: str
    wrk: str  # e.g. "wrk 4.1.0, 2 threads, 64 connections, on the same machine"
    commit: str
    note: str = ""  # e.g. other load seen on the machine

    def preface(self) -> str:
        text = (f"`{self.command}` on {self.cores} cores ({self.cpu}), {self.date}, commit `{self.commit}`; "
                f"{self.wrk}.")
        return text + (f" {self.note}" if self.note else "")


def sections(markdown: str) -> list[tuple[str | None, str]]:
    """(heading of a `## ` section or None for what precedes the first, its text with the heading line)."""
    parts: list[tuple[str | None, str]] = []
    heading, lines = None, []
    for line in markdown.splitlines(keepends=True):
        match = re.match(r"## (.+?)\s*$", line)
        if match:
            parts.append((heading, "".join(lines)))
            heading, lines = match.group(1), [line]
        else:
            lines.append(line)
    parts.append((heading, "".join(lines)))
    return [(h, text) for h, text in parts if h is not None or text.strip()]


def replace_sections(markdown: str, replacements: Mapping[str, str]) -> str:
    """`markdown` with each `## <name>` section replaced by `replacements[name]` (body without the
    heading), in place when present, appended otherwise; every other section is kept byte for byte."""
    if not markdown.strip():
        markdown = f"{DOCUMENT_TITLE}\n\n{DOCUMENT_INTRO}\n"
    kept = sections(markdown)
    done: set[str] = set()
    out: list[str] = []
    for heading, text in kept:
        if heading in replacements:
            out.append(_section(heading, replacements[heading]))
            done.add(heading)
        else:
            out.append(text if text.endswith("\n") else text + "\n")
    for heading, body in replacements.items():
        if heading not in done:
            out.append(_section(heading, body))
    joined = ""
    for text in out:
        joined += ("\n" if joined and not joined.endswith("\n\n") else "") + text
    return joined


def _section(heading: str, body: str) -> str:
    return f"## {heading}\n\n{body.strip()}\n"
