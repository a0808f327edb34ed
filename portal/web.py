"""Request-side helpers every blueprint uses: page-or-fragment rendering, role
checks, mapping domain errors onto forms, and the error pages."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from portal.errors import DomainError, ValidationFailed
from portal.i18n import _, _l
from portal.lifecycle import asks_confirmation, run_move_question, status_label
from portal.text import plural, plural_word


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
    flash(str(exc.message), "error")


ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Check what you entered and try again.")),
    401: (_l("Please sign in"), _l("Your session has ended. Sign in to continue.")),
    403: (_l("Not allowed"), _l("Your role does not give access to this page.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Conflict"), _l("The change could not be applied because the record changed meanwhile.")),
    413: (_l("Too large"), _l("The upload is larger than this portal accepts.")),
    422: (_l("Could not save"), _l("Some values need your attention.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a minute, then try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. Nothing was half saved; try "
                                        "again.")),
    503: (_l("Temporarily unavailable"), _l("The portal cannot reach its database right now. Nothing was saved; "
                                           "try again in a minute.")),
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


def _error_page(status: int, detail: Any = None) -> Response:
    """``detail``: a lazy string (``_l``), read once the page knows who is asking (finding the
    reader's language reads the signed-in user, which needs the database)."""
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
            return _error_page(400, _l("The request contains a NUL character, which no field accepts."))
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response:
        return _error_page(400, _l("The form expired or came from elsewhere (CSRF check failed). Reload the page "
                                  "and try again."))

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


# --- confirmations ------------------------------------------------------------------
# A destructive button (drop, complete, archive, publish…) posts its form as usual. The
# server performs the action only when the post carries CONFIRM_FIELD=yes; otherwise it
# answers the confirmation page (templates/_confirm.html), which says what will happen and
# posts the same fields again with the field set. With JavaScript, htmx asks first
# (hx-confirm) and sends the field itself (confirm_attrs), so the page is skipped.
CONFIRM_FIELD = "confirmed"


def is_confirmed() -> bool:
    """True when the user confirmed: the confirmation page's button, or htmx's hx-confirm."""
    return request.form.get(CONFIRM_FIELD) == "yes"


@dataclass
class Confirmation:
    """What the confirmation page shows. ``fields``: the hidden fields its Confirm button
    posts (by default everything the refused post carried, so nothing is lost)."""

    title: str  # the question, e.g. "Drop 3 enrollments?"
    action: str  # where Confirm posts
    confirm_label: str  # the button: "Drop 3 enrollments"
    cancel_url: str
    consequences: list[str] = field(default_factory=list)  # what will happen, in sentences
    facts: list[tuple[str, str]] = field(default_factory=list)  # (term, value) shown as a list
    items: list[str] = field(default_factory=list)  # the people or objects affected, by name
    items_label: str = ""
    crumbs: list[tuple[str, str | None]] = field(default_factory=list)  # (text, url) — the last has no url
    fields: list[tuple[str, str]] | None = None
    cancel_label: str = field(default_factory=lambda: _("Cancel"))
    danger: bool = True
    final: bool = True  # says "This cannot be undone." above the buttons


def posted_fields(skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Every posted field except the CSRF token, the confirmation itself and ``skip``."""
    left_out = {"csrf_token", CONFIRM_FIELD, *skip}
    return [(name, value) for name, values in request.form.lists() if name not in left_out for value in values]


def confirmation_page(confirmation: Confirmation) -> Response:
    """The confirm step without JavaScript: nothing has changed yet (200)."""
    if confirmation.fields is None:
        confirmation.fields = posted_fields()
    return render("_confirm.html", c=confirmation)


def confirm_attrs(action: str, question: str) -> Markup:
    """The attributes that make a form (or button) ask ``question`` with htmx before posting
    to ``action`` with the confirmation field set. Without JavaScript they do nothing."""
    return Markup(' hx-post="{}" hx-confirm="{}" hx-vals=\'{}\'').format(
        action, question, json.dumps({CONFIRM_FIELD: "yes"}))


def refused_action(message: str, page: Callable[[], Response], back: str) -> Response:
    """A refused action: its message flashed, then the page again with the refusal's status;
    an htmx request (which swaps no 409) gets a full load of ``back`` instead, where the
    message shows."""
    flash(str(message), "error")
    if is_partial_request():
        return redirect_to(back)
    return page()


class RenderedOnce:
    """Pieces of HTML kept per key, for a piece that is the same for everyone who reads it in
    the same words (no person, no link or token of theirs in it): rendered once per worker,
    the key naming everything it depends on, its language (:func:`portal.i18n.catalogue_key`)
    included. Past ``size`` keys it starts afresh."""

    def __init__(self, size: int) -> None:
        self.size, self.kept = size, {}

    def get(self, key: tuple, render: Callable[[], Markup]) -> Markup:
        if (html := self.kept.get(key)) is None:
            html = render()
            if len(self.kept) >= self.size:
                self.kept.clear()
            self.kept[key] = html
        return html


def badge(status: str) -> Markup:
    """A status in words on its colour (``.badge--<status>``): a function rather than a macro,
    as every list row shows one and a macro call cost several times more."""
    return Markup('<span class="badge badge--%s">%s</span>') % (status, status_label(status))


_SDG_LISTS = RenderedOnce(1024)


def sdg_badges(goals: Iterable[int] | None, compact: bool = False, label: Any = None) -> Markup:
    """The goals as templates/_sdg.html draws them, rendered once per goals, form and language:
    a catalog page shows two dozen lists, and drawing each cost a tenth of the page."""
    from flask import get_template_attribute

    from portal.i18n import catalogue_key

    goals = tuple(goals or ())
    return _SDG_LISTS.get((goals, compact, None if label is None else str(label), catalogue_key()),
                          lambda: get_template_attribute("_sdg.html", "sdg_badges")(goals, compact, label))


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share: {{ key|category_label }} and |category_description
    (what a program category means), {{ status|status_label }} (a state in words),
    {{ confirm_attrs(url, "Archive it?") }}, and which lifecycle moves ask first
    (asks_confirmation, run_move_question). ``plural``/``plural_word`` are English only
    (portal.text): new text says its plurals with ``ngettext``."""
    from portal.program_templates.models import CATEGORY_DESCRIPTIONS, CATEGORY_LABELS

    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["category_label"] = lambda key: CATEGORY_LABELS.get(key, key)
    app.jinja_env.filters["category_description"] = lambda key: CATEGORY_DESCRIPTIONS.get(key, "")
    app.jinja_env.filters["plural_word"] = plural_word
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.globals["confirm_attrs"] = confirm_attrs
    app.jinja_env.globals["sdg_badges"] = sdg_badges
    app.jinja_env.globals["badge"] = badge
    app.jinja_env.globals["asks_confirmation"] = asks_confirmation
    app.jinja_env.globals["run_move_question"] = run_move_question
    app.jinja_env.globals["CONFIRM_FIELD"] = CONFIRM_FIELD
