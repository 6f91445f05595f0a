"""Security headers on every answer of the portal: a Content-Security-Policy allowing only the portal's own
script and style (and forms posted to itself or, on sign-out, to the provider), no framing, no sniffing, no
referrer to other sites, HSTS off localhost; and pages of a signed-in person are never kept by the browser (after
sign-out the back button shows no data). An answer that sets its own Content-Security-Policy or Cache-Control keeps
it: the managers' chart images (`web/charts.py`: a standalone SVG, no personal data)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request, session

from services.portal.web.sessions import secure_request


def install_security_headers(app: Flask, issuer: str, force_secure: bool) -> None:
    provider = urlsplit(issuer)
    provider_origin = f"{provider.scheme}://{provider.netloc}" if provider.netloc else ""
    policy = "; ".join([
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "font-src 'self'", f"form-action 'self' {provider_origin}".strip(), "frame-ancestors 'none'",
        "base-uri 'none'"])

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if secure_request(request, force_secure):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if session.get("account") and not request.path.startswith("/static/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
