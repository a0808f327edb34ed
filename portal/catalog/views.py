"""The catalog: active public programs, a company admin's starting point."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, request, url_for
from flask_login import current_user, login_required

from portal.catalog.queries import CatalogFilters, catalog_choices, catalog_page, catalog_program
from portal.web import is_partial_request, render

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

# Cards are bigger than table rows: a page is a few rows of cards, not the list page size.
DEFAULT_PAGE_SIZE = 24
# How long the filter choices (countries, languages in the catalog) are reused per process.
DEFAULT_CHOICES_TTL_SECONDS = 60


@bp.get("/")
@login_required
def index():
    """Filters and paging through the URL; an HTMX request gets the results fragment alone."""
    filters = CatalogFilters.from_args(request.args)
    cursor = request.args.get("after")
    page = catalog_page(filters, company_id=current_user.company_id if current_user.is_company_admin else None,
                        cursor=cursor, size=current_app.config.get("PORTAL_CATALOG_PAGE_SIZE", DEFAULT_PAGE_SIZE),
                        min_cohort=current_app.config["PORTAL_MIN_COHORT"])
    partial = is_partial_request()
    # The fragment has no filter form, so it needs no choices.
    choices = None if partial else catalog_choices(
        filters, cache=current_app.extensions.setdefault("portal_catalog", {}),
        ttl_seconds=current_app.config.get("PORTAL_CATALOG_CHOICES_TTL", DEFAULT_CHOICES_TTL_SECONDS))
    response = render("catalog/index.html", block="results", page=page, filters=filters, args=filters.as_args(),
                      choices=choices)
    if partial:
        # The address bar shows the tidy, shareable URL (no empty parameters).
        after = {"after": cursor} if cursor and not page.first else {}
        response.headers["HX-Push-Url"] = url_for(".index", **filters.as_args(), **after)
    return response


@bp.get("/<int:program_id>")
@login_required
def program(program_id: int):
    """One program, read-only, as its catalog card promises it (dates, SDGs by name). A
    program the viewer may not see answers 404, like a missing one."""
    found = catalog_program(program_id, current_user, min_cohort=current_app.config["PORTAL_MIN_COHORT"])
    if found is None:
        abort(404)
    return render("catalog/program.html", program=found, card=found.card)
