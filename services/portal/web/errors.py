"""The portal's errors are pages, its only format: shared.errors' problem+json answers and the other
services' refusals (`ApiError`) are shown in French; an expired session leads back to the sign-in."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from services.portal.client.api import ApiError
from services.portal.web.access import sign_in_again
from services.portal.web.sign_in import SessionExpired

log = logging.getLogger(__name__)


def install_error_pages(app: Flask) -> None:
    """Replace shared.errors' problem+json answers by pages."""

    def page(status: int, message: str, retry_after: int | None = None):
        return render_template("error.html", status=status, message=message), status, (
            {"Retry-After": str(retry_after)} if retry_after else {})

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        if error.status == 401:
            return sign_in_again(error.message)
        return page(error.status if error.status >= 400 else 502, error.message, error.retry_after)

    @app.errorhandler(SessionExpired)
    def session_expired(_: SessionExpired):
        return sign_in_again("")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 400 and error.description == "csrf":
            return page(400, "Ce formulaire a expiré ou ne vient pas de ce site : rechargez la page et recommencez.")
        messages = {404: "Cette page n'existe pas.", 405: "Cette action n'est pas possible ici.",
                    400: "La demande n'a pas pu être comprise."}
        return page(error.code or 500, messages.get(error.code or 500, error.description or "Erreur."))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error", extra={"path": request.path})
        return page(500, "Une erreur s'est produite de notre côté ; elle est enregistrée. Réessayez dans un instant.")
