"""The accessibility statement (« Déclaration d'accessibilité »), public, in the RGAA 4.1 format: what the
law requires a French public service to publish, linked from every page's footer."""
from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("accessibility", __name__)

# When the statement was written and the audit behind it was done; changed with the statement.
STATEMENT_DATE = "4 décembre 2026"


@blp.get("/accessibilite")
def statement():
    return render_template("accessibility.html", statement_date=STATEMENT_DATE)
