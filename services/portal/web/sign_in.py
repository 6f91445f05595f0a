"""Signing in. On a developer's machine the portal mints a development token (shared.devtokens) for
the account and role chosen; in production the city's OIDC provider signs parents and agents in and
this page is replaced by its redirect. The token is kept in Flask's signed session cookie."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from services.portal.bootstrap import PortalComponents
from shared.devtokens import issue_token

blp = Blueprint("auth", __name__)
ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
TOKEN_LIFETIME_SECONDS = 8 * 3600
HOME = {"parent": "parents.campaigns", "manager": "managers.campaigns"}


@blp.get("/")
def home():
    return redirect(url_for(HOME[session["role"]]) if session.get("role") in HOME else url_for("auth.sign_in"))


@blp.route("/connexion", methods=["GET", "POST"])
def sign_in():
    settings = PortalComponents.current().settings
    if not settings.dev_sign_in:
        # The city's OIDC provider is not wired yet: without the development sign-in, nobody signs in here.
        return render_template("error.html", status=503, message=(
            "La connexion passe par le compte parisien de la Ville, qui n'est pas encore relié à ce portail.")), 503
    errors: dict[str, str] = {}
    form = {"account": "", "role": "parent"}
    if request.method == "POST":
        form = {"account": request.form.get("account", "").strip(), "role": request.form.get("role", "")}
        if not ACCOUNT.fullmatch(form["account"]):
            errors["account"] = "Un identifiant de 1 à 100 caractères : lettres, chiffres, « . », « _ », « - », « @ »."
        if form["role"] not in HOME:
            errors["role"] = "Choisissez « parent » ou « agent de la Ville »."
        if not errors:
            session.clear()
            session.update(account=form["account"], role=form["role"],
                           token=issue_token(settings, form["account"], [form["role"]], TOKEN_LIFETIME_SECONDS))
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for(HOME[form["role"]]))
    return render_template("sign_in.html", form=form, errors=errors), 422 if errors else 200


@blp.post("/deconnexion")
def sign_out():
    session.clear()
    flash("Vous êtes déconnecté.")
    return redirect(url_for("auth.sign_in"))
