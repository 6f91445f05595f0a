from pathlib import Path

from shared.contracts.document import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def test_events_doc_is_generated_from_the_current_contracts():
    assert DOC.read_text() == render(), "docs/events.md is stale: run `make docs`"
