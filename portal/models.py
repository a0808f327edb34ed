"""Imports every model so that metadata is complete (Alembic, create_all, the seed)."""
from portal.activity.models import ActivityEvent
from portal.api.models import IdempotencyKey
from portal.auth.models import Company, User
from portal.beneficiaries.models import BeneficiaryGroup
from portal.campaigns.models import Campaign
from portal.deliveries.models import Delivery, EnrollmentMilestone, EnrollmentProgress
from portal.enrollments.models import Enrollment, EnrollmentDay, EnrollmentTally, Participant
from portal.impact.models import ImpactReach, ImpactTally, ValuationEntry, ValuationSet
from portal.jobs.models import Job, StoredFile
from portal.l2i.models import L2IAllocation, L2ISubscription
from portal.matches.models import Match, MatchLoad
from portal.privacy.models import DataSubjectRequest
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program
from portal.reports.models import ReportShareLink, ReportSnapshot
from portal.tokens.models import ApiToken
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ActivityEvent", "ApiToken", "BeneficiaryGroup", "Campaign", "Company", "DataSubjectRequest", "Delivery", "Enrollment", "EnrollmentDay",
    "EnrollmentMilestone", "EnrollmentProgress", "EnrollmentTally", "IdempotencyKey", "ImpactReach", "ImpactTally", "Job",
    "L2IAllocation", "L2ISubscription", "Match", "MatchLoad", "Participant", "Program", "ProgramTemplate",
    "ReportShareLink", "ReportSnapshot", "StoredFile", "User", "ValuationEntry", "ValuationSet",
    "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
]
