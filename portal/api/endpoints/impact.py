"""A campaign's impact figures (SPEC §2.11): points with the "why this number" rows, the
volunteers' score, and SROI with its band, outcome rows and investment — one call of
:func:`portal.impact.queries.campaign_impact`, the impact page's own, with small cells
withheld for company admins exactly as the page withholds them."""
from __future__ import annotations

from flask import current_app

from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, problems, query_params, requires
from portal.campaigns.models import Campaign
from portal.db import utcnow
from portal.impact.queries import campaign_impact
from portal.tenancy import get_visible_or_404


@bp.get("/campaigns/<int:campaign_id>/impact")
@bp.output(schemas.ImpactOut)
@requires("read")
@bp.doc(tags=["Impact"], responses=problems(*COMMON_PROBLEMS, 404, 422))
@query_params(schemas.ImpactQuery)
def get_campaign_impact(campaign_id: int, query: schemas.ImpactQuery):
    """Get a campaign's impact

    Impact points (an engagement score, never money) with each kind's count, weight and the
    layer the weight came from; the volunteers' score; and SROI under the valuation set the
    program pins (ratio, sensitivity band, each outcome's quantity and value, investment) —
    or why there is none. For company admins a figure resting on fewer beneficiaries than
    the cohort minimum is withheld (null, with ``withheld`` and the reason), and no total is
    given beside parts it would reveal."""
    user = api_user()
    campaign = get_visible_or_404(Campaign, campaign_id, user)
    min_cohort = None if user.is_program_manager else current_app.config["PORTAL_MIN_COHORT"]
    today = utcnow().date()
    figures = campaign_impact(campaign, today, min_cohort=min_cohort)
    return serializers.impact(campaign, figures, today, min_cohort)
