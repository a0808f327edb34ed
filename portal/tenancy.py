"""Tenancy: the one place that knows who sees what (SPEC §1, §5).

Every list and lookup of company-owned data goes through :func:`visible` /
:func:`get_visible_or_404`. A company admin asking for another company's object gets
exactly what a missing object gets: 404, never 403, so existence never leaks.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort

from portal.activity.models import ActivityEvent
from portal.auth.models import Company, User
from portal.beneficiaries.models import BeneficiaryGroup
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from portal.l2i.models import L2IAllocation, L2ISubscription
from portal.matches.models import Match
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program, in_catalog
from portal.reports.models import ReportShareLink, ReportSnapshot

M = TypeVar("M")

_NOTHING = sa.false()


def _company_campaign_ids(user: User) -> sa.Select[Any]:
    return sa.select(Campaign.id).where(Campaign.company_id == user.company_id)


def _program_visible_to_company(user: User) -> sa.ColumnElement[bool]:
    # The catalog (active public programs) plus the programs of the company's own campaigns.
    own = sa.select(Campaign.program_id).where(Campaign.company_id == user.company_id)
    return sa.or_(in_catalog(), Program.id.in_(own))


# model -> rule giving the rows a company admin may see
_COMPANY_ADMIN_RULES: dict[type, Callable[[User], sa.ColumnElement[bool]]] = {
    Company: lambda u: Company.id == u.company_id,
    User: lambda u: User.company_id == u.company_id,
    Campaign: lambda u: Campaign.company_id == u.company_id,
    Enrollment: lambda u: Enrollment.campaign_id.in_(_company_campaign_ids(u)),
    Match: lambda u: Match.campaign_id.in_(_company_campaign_ids(u)),
    # As people, only the company's own employees. Everyone else in its campaigns is met
    # only through an enrollment, under the company's pseudonym (portal.enrollments.privacy).
    Participant: lambda u: Participant.company_id == u.company_id,
    L2ISubscription: lambda u: L2ISubscription.company_id == u.company_id,
    L2IAllocation: lambda u: L2IAllocation.subscription_id.in_(
        sa.select(L2ISubscription.id).where(L2ISubscription.company_id == u.company_id)
    ),
    ActivityEvent: lambda u: ActivityEvent.company_id == u.company_id,
    Program: _program_visible_to_company,
    ReportSnapshot: lambda u: ReportSnapshot.company_id == u.company_id,
    ReportShareLink: lambda u: ReportShareLink.company_id == u.company_id,
    # Program managers' own material: templates and group internals are not for company admins.
    ProgramTemplate: lambda u: _NOTHING,
    BeneficiaryGroup: lambda u: _NOTHING,
}


ALL, COMPANY, NONE = "all", "company", "none"  # what a viewer sees: everything, a company's, nothing


def viewer_scope(user: User) -> tuple[str, dict[str, Any]]:
    """Which rows ``user`` sees (ALL, COMPANY or NONE) and, for COMPANY, the parameter a
    :func:`bound_rule` binds (``viewer_company_id``)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NONE, {}
    if user.is_program_manager:
        return ALL, {}
    if user.is_company_admin and user.company_id is not None:
        return COMPANY, {"viewer_company_id": user.company_id}
    return NONE, {}


def _company_rule(model: type) -> Callable[[Any], sa.ColumnElement[bool]]:
    try:
        return _COMPANY_ADMIN_RULES[model]
    except KeyError:
        raise LookupError(f"no tenancy rule for {model.__name__}: add one to portal.tenancy") from None


def visible(model: type, user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause limiting ``model`` to the rows ``user`` may see."""
    scope, _params = viewer_scope(user)
    if scope == COMPANY:
        return _company_rule(model)(user)
    return sa.true() if scope == ALL else _NOTHING


# A company admin as the rules read one (only its company), with the company bound when run.
_BOUND_VIEWER = SimpleNamespace(company_id=sa.bindparam("viewer_company_id"))


def bound_rule(model: type, scope: str) -> sa.ColumnElement[bool]:
    """:func:`visible` for a :func:`viewer_scope`, the viewer's company bound as
    ``viewer_company_id``: for a statement built once and run for any viewer of that scope."""
    if scope == COMPANY:
        return _company_rule(model)(_BOUND_VIEWER)
    return sa.true() if scope == ALL else _NOTHING


def select_visible(model: type[M], user: User) -> sa.Select[tuple[M]]:
    return sa.select(model).where(visible(model, user))


def get_visible_or_404(model: type[M], object_id: Any, user: User, *, for_update: bool = False,
                       options: tuple[Any, ...] = ()) -> M:
    """The object if it exists and ``user`` may see it; otherwise abort(404). ``options``:
    loader options (what the page reads with it, in the same statement), a tuple kept by
    the caller: the statement is built once for each model, kind of viewer and options."""
    scope, params = viewer_scope(user)
    if scope == NONE:
        abort(404)
    stmt = _lookup_statement(model, scope, tuple(options), for_update)
    obj = db.session.scalars(stmt, {"object_id": object_id, **params}).first()
    if obj is None:
        abort(404)
    return obj


@lru_cache(maxsize=256)
def _lookup_statement(model: type, scope: str, options: tuple[Any, ...], for_update: bool) -> sa.Select:
    """One object of ``model`` by id (bound as ``object_id``) among those a viewer of
    ``scope`` sees (:func:`bound_rule`): every detail page looks its object up, and building
    the statement cost about what running it did (with a page's loader options, more)."""
    stmt = sa.select(model).where(model.id == sa.bindparam("object_id"),  # type: ignore[attr-defined]
                                  bound_rule(model, scope))
    if options:
        stmt = stmt.options(*options)
    if for_update:
        stmt = stmt.with_for_update()
    return stmt
