"""Request-side helpers every blueprint uses: page-or-fragment rendering, role
checks, mapping domain errors onto forms, and the error pages."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block

from portal.errors import DomainError, ValidationFailed


def is_partial_request() -> bool:
    """True for an HTMX request that wants a fragment (not a boosted page or history restore)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(template_name: str, /, *, block: str | None = None, status_code: int = 200, **context: Any) -> Response:
    """The full page, or only ``block`` of the same template for an HTMX request."""
    if block and is_partial_request():
        body = render_block(template_name, block, **context)
    else:
        body = render_template(template_name, **context)
    response = make_response(body, status_code)
    response.vary.add("HX-Request")
    return response


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed in and holding one of ``roles``; others get 403 (the screen itself is no secret)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def apply_domain_error(form: FlaskForm, exc: DomainError) -> None:
    """Put a refused operation's messages next to the fields they concern."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [exc.message]}
    for field_name, messages in errors.items():
        field = getattr(form, field_name, None) if field_name else None
        if field is not None and hasattr(field, "errors") and getattr(field, "type", "") != "HiddenField":
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)


def flash_domain_error(exc: DomainError) -> None:
    flash(exc.message, "error")


ERROR_TEXTS = {
    400: ("Bad request", "The request could not be understood. Check what you entered and try again."),
    401: ("Please sign in", "Your session has ended. Sign in to continue."),
    403: ("Not allowed", "Your role does not give access to this page."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    409: ("Conflict", "The change could not be applied because the record changed meanwhile."),
    413: ("Too large", "The upload is larger than this portal accepts."),
    422: ("Could not save", "Some values need your attention."),
    429: ("Too many attempts", "Too many attempts in a short time. Wait a minute, then try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. Nothing was half saved; try again."),
    503: ("Temporarily unavailable", "The portal cannot reach its database right now. Nothing was saved; "
          "try again in a minute."),
}


def _rollback_quietly() -> None:
    """End the request's transaction; a dead connection must not turn an error page into another error."""
    from sqlalchemy.exc import SQLAlchemyError

    from portal.db import db

    try:
        db.session.rollback()
    except SQLAlchemyError:
        pass


def _user_for_error_page() -> None:
    """Make ``current_user`` safe for the error page's header, which must render even when the
    database is what failed: the signed-in user when the database gives them (and what the
    header shows about them), otherwise anonymous."""
    from flask import g
    from sqlalchemy.exc import SQLAlchemyError

    from portal.extensions import login_manager

    try:
        user = current_user._get_current_object()  # loads the user if this request has not yet
        if user.is_authenticated:
            _ = (user.name, user.role, user.company.name if user.company else None)  # reloaded after a rollback
    except SQLAlchemyError:
        _rollback_quietly()
        g._login_user = login_manager.anonymous_user()


def _error_page(status: int, detail: str | None = None) -> Response:
    title, text = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    _user_for_error_page()
    response = make_response(render_template("errors/error.html", status=status, title=title, text=detail or text), status)
    response.vary.add("HX-Request")
    return response


def register_error_handlers(app: Flask) -> None:
    from sqlalchemy.exc import OperationalError
    from werkzeug.exceptions import HTTPException

    @app.before_request
    def refuse_nul_characters() -> Response | None:
        """No text a person types contains NUL, and PostgreSQL refuses it in strings:
        answer 400 at the door instead of failing deep in a query."""
        values = [v for _, vs in request.args.lists() for v in vs]
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            values += [v for _, vs in request.form.lists() for v in vs]
        if any("\x00" in value for value in values):
            return _error_page(400, "The request contains a NUL character, which no field accepts.")
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response:
        return _error_page(400, "The form expired or came from elsewhere (CSRF check failed). Reload the page and try again.")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        _rollback_quietly()
        return _error_page(exc.status_code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _error_page(exc.code or 500)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError) -> Response:
        """The database is down, restarting or out of connections: a clear, temporary 503."""
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        _rollback_quietly()
        response = _error_page(503)
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        _rollback_quietly()
        return _error_page(500)


def unauthorized() -> Response:
    """Flask-Login's handler: HTMX gets 401 + HX-Redirect, pages a redirect to sign-in."""
    login_url = url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        response = _error_page(401)
        response.headers["HX-Redirect"] = login_url
        return response
    response = make_response("", 302)
    response.headers["Location"] = login_url
    return response


def redirect_to(location: str) -> Response:
    """Redirect after a successful write. HTMX gets HX-Redirect (a full page load, so the
    flash message shows) rather than a followed redirect swapped into the form."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
    else:
        response = make_response("", 303)
        response.headers["Location"] = location
    response.vary.add("HX-Request")
    return response
