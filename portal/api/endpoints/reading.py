"""Templates and programs (program managers, as on the screens) and the catalog (everyone):
read only, through the screens' own queries."""
from __future__ import annotations

from flask import current_app

from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, problems, query_params, requires
from portal.api.lists import check_cursor, page_body
from portal.auth.models import PROGRAM_MANAGER
from portal.catalog.queries import CatalogFilters, catalog_page
from portal.pagination import keyset_page
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program
from portal.programs.queries import ProgramFilters, program_page
from portal.tenancy import get_visible_or_404, select_visible

PM_ONLY = (PROGRAM_MANAGER,)


@bp.get("/templates")
@bp.output(schemas.Page[schemas.TemplateOut])
@requires("read", roles=PM_ONLY)
@bp.doc(tags=["Templates"], responses=problems(*COMMON_PROBLEMS, 422))
@query_params(schemas.TemplateQuery)
def list_templates(query: schemas.TemplateQuery):
    """List template versions

    Newest first. Program managers only (company admins get 403, as on the screens)."""
    stmt = select_visible(ProgramTemplate, api_user())
    if query.status:
        stmt = stmt.where(ProgramTemplate.status == query.status)
    if query.category:
        stmt = stmt.where(ProgramTemplate.category == query.category)
    if query.key:
        stmt = stmt.where(ProgramTemplate.key == query.key)
    page = keyset_page(stmt, ProgramTemplate, check_cursor(query.cursor), query.limit)
    return page_body([serializers.template(t) for t in page.items], page.next_cursor)


@bp.get("/templates/<int:template_id>")
@bp.output(schemas.TemplateDetail)
@requires("read", roles=PM_ONLY)
@bp.doc(tags=["Templates"], responses=problems(*COMMON_PROBLEMS, 404))
def get_template(template_id: int):
    """Get one template version

    With its configuration schema, defaults and UI hints."""
    return serializers.template(get_visible_or_404(ProgramTemplate, template_id, api_user()), detail=True)


@bp.get("/programs")
@bp.output(schemas.Page[schemas.ProgramOut])
@requires("read", roles=PM_ONLY)
@bp.doc(tags=["Programs"], responses=problems(*COMMON_PROBLEMS, 422))
@query_params(schemas.ProgramQuery)
def list_programs(query: schemas.ProgramQuery):
    """List programs

    Newest first. Program managers only; companies read the catalog."""
    filters = ProgramFilters(category=query.category, status=query.status, group_id=query.group_id,
                             template_key=query.template_key)
    page = program_page(filters, check_cursor(query.cursor), query.limit)
    return page_body([serializers.program(p) for p in page.items], page.next_cursor)


@bp.get("/programs/<int:program_id>")
@bp.output(schemas.ProgramDetail)
@requires("read", roles=PM_ONLY)
@bp.doc(tags=["Programs"], responses=problems(*COMMON_PROBLEMS, 404))
def get_program(program_id: int):
    """Get one program

    With its configuration overrides (the program layer)."""
    program = get_visible_or_404(Program, program_id, api_user())
    return serializers.program(program, detail=True)


@bp.get("/catalog")
@bp.output(schemas.Page[schemas.CatalogCardOut])
@requires("read")
@bp.doc(tags=["Catalog"], responses=problems(*COMMON_PROBLEMS, 422))
@query_params(schemas.CatalogQuery)
def list_catalog(query: schemas.CatalogQuery):
    """List the catalog

    Active public programs, newest first, with the figures the catalog screen shows (rounded
    for companies)."""
    user = api_user()
    filters = CatalogFilters(category=query.category, country=query.country, group_type=query.group_type,
                             language=query.language, sdg=query.sdg,
                             search=" ".join((query.q or "").split()) or None)
    page = catalog_page(filters, company_id=user.company_id if user.is_company_admin else None,
                        cursor=check_cursor(query.cursor), size=query.limit,
                        min_cohort=current_app.config["PORTAL_MIN_COHORT"])
    return page_body([serializers.catalog_card(c) for c in page.cards], page.next_cursor)


