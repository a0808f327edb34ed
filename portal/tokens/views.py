"""The tokens screen (SPEC §4.2), for every signed-in user: their tokens (name, prefix,
scopes, expiry, last use, state), a form that creates one and shows its text once, and
revoke with a confirmation. Thin: parse → operation in one transaction → render."""
from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_login import current_user, login_required

from portal.db import transaction, utcnow
from portal.errors import DomainError, NotFound
from portal.i18n import _
from portal.tokens import operations as ops
from portal.tokens.forms import NewTokenForm, RevokeForm
from portal.web import Confirmation, apply_domain_error, confirmation_page, is_confirmed, redirect_to, render

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(form: NewTokenForm, status_code: int = 200):
    return render("tokens/index.html", form=form, tokens=ops.tokens_of(current_user), now=utcnow(),
                  scopes=ops.SCOPES, revoke_form=RevokeForm(), status_code=status_code)


@bp.get("/")
@login_required
def index():
    return _page(NewTokenForm())


@bp.post("/")
@login_required
def create():
    """Create a token and show its text on this answer only: it is never stored or shown
    again (nor flashed: the session cookie is signed, not secret)."""
    form = NewTokenForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _page(form, 422)
    user = current_user._get_current_object()  # the operation records the user itself as the subject
    try:
        with transaction():
            token, text = ops.create_token(user, user, name=form.name.data, scopes=form.scopes.data,
                                           expires_days=form.expiry())
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _page(form, exc.status_code)
    response = render("tokens/created.html", token=token, text=text, scopes=ops.SCOPES, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of the user's own tokens once confirmed (until then: the confirmation page)."""
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        token = ops.own_token_or_error(current_user, token_id)
    except NotFound:
        abort(404)
    index_url = url_for(".index")
    if not is_confirmed():
        return confirmation_page(Confirmation(
            title=_("Revoke the token “%(name)s”?", name=token.name), confirm_label=_("Revoke the token"),
            action=url_for(".revoke", token_id=token.id), cancel_url=index_url, cancel_label=_("Keep it"),
            facts=[(_("Token"), f"{token.prefix}…"), (_("Scopes"), ", ".join(token.scopes))],
            consequences=[_("Anything that uses this token is refused from now on (401).")],
            crumbs=[(_("API tokens"), index_url), (token.name, None)]))
    with transaction():
        token = ops.own_token_or_error(current_user, token_id, for_update=True)
        ops.revoke_token(current_user._get_current_object(), token)
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect_to(index_url)
