"""axe-core in the page tests: the WCAG 2.1 A and AA rules (axe's `wcag2a`, `wcag2aa`, `wcag21a`, `wcag21aa`
tags) run in the page as it stands, through axe-playwright-python, which ships axe.min.js (no npm)."""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
_AXE = Axe()


def axe_violations(page, impacts: tuple[str, ...] = ALL_IMPACTS) -> list[str]:
    """The violations of the given impacts on the page, one line per rule with its first offending elements."""
    results = _AXE.run(page, options=WCAG_21_AA)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + " | ".join(n["html"][:120] for n in v["nodes"][:3])
            for v in results.response["violations"] if v.get("impact") in impacts]
