"""The API about itself: the OpenAPI document, its reference page, and ``/me``."""
from __future__ import annotations

from flask import current_app, g, jsonify, render_template

from portal.api import schemas
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, problems, requires
from portal.api.problems import TITLES
from portal.api.spec import reference_sections


@bp.get("/openapi.json")
@bp.doc(hide=True)
def openapi_document():
    """The OpenAPI 3.1 document (public: it describes the contract, not any data)."""
    response = jsonify(current_app._get_spec("json"))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs")
@bp.doc(hide=True)
def reference():
    """A readable reference, rendered on the server from the same document (no CDN, no script)."""
    spec = current_app._get_spec("json")
    response = current_app.make_response(render_template(
        "api/reference.html", spec=spec, sections=reference_sections(spec), problem_titles=TITLES))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/me")
@bp.output(schemas.Me)
@requires(None)
@bp.doc(tags=["Tokens"], responses=problems(*COMMON_PROBLEMS))
def me():
    """Who this token acts as

    The user, role, company, and the token's own name, scopes and expiry."""
    user, token = api_user(), g.api_token
    return schemas.Me(user_id=user.id, name=user.name, email=user.email, role=user.role, company_id=user.company_id,
                      token_name=token.name, token_prefix=token.prefix, scopes=token.scopes,
                      expires_at=token.expires_at)
