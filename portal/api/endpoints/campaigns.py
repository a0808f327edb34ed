"""Campaigns (read): company admins their own, program managers all — portal.tenancy, as
on the screens. Writes (create, update, transitions) come with ``campaigns:write``."""
from __future__ import annotations

from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, problems, query_params, requires
from portal.api.conditional import etag_of
from portal.api.lists import check_cursor, page_body
from portal.campaigns.models import Campaign
from portal.pagination import keyset_page
from portal.tenancy import get_visible_or_404, select_visible


@bp.get("/campaigns")
@bp.output(schemas.Page[schemas.CampaignOut])
@requires("read")
@bp.doc(tags=["Campaigns"], responses=problems(*COMMON_PROBLEMS, 422))
@query_params(schemas.CampaignQuery)
def list_campaigns(query: schemas.CampaignQuery):
    """List campaigns

    Newest first. Company admins see their company's campaigns only; filtering by another
    company gives an empty list."""
    stmt = select_visible(Campaign, api_user())
    if query.status:
        stmt = stmt.where(Campaign.status == query.status)
    if query.program_id:
        stmt = stmt.where(Campaign.program_id == query.program_id)
    if query.company_id:
        stmt = stmt.where(Campaign.company_id == query.company_id)
    page = keyset_page(stmt, Campaign, check_cursor(query.cursor), query.limit)
    return page_body([serializers.campaign(c) for c in page.items], page.next_cursor)


@bp.get("/campaigns/<int:campaign_id>")
@bp.output(schemas.CampaignOut)
@requires("read")
@bp.doc(tags=["Campaigns"], responses=problems(*COMMON_PROBLEMS, 404))
def get_campaign(campaign_id: int):
    """Get one campaign

    Another company's campaign is 404, exactly like a missing one."""
    campaign = get_visible_or_404(Campaign, campaign_id, api_user())
    return serializers.campaign(campaign), {"ETag": etag_of(campaign.lock_version)}


