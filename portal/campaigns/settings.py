"""A campaign's effective configuration (SPEC §3): the one place that layers the program's
pinned template version's defaults ← the program's overrides ← the campaign's. Matching,
delivery kinds and milestones all read their settings through it."""
from __future__ import annotations

from typing import Any

from portal.campaigns.models import Campaign
from portal.configuration.merge import effective_config


def campaign_config(campaign: Campaign) -> dict[str, Any]:
    program = campaign.program
    return effective_config(program.template.default_config or {}, program.config_overrides,
                            campaign.config_overrides)
