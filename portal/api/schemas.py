"""The API's documents (pydantic models): what the OpenAPI document describes and every
answer is checked against. Filters are closed sets where the domain has them (a value
outside is a 422, never "no filter"); query models forbid unknown parameters."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from portal import reference
from portal.beneficiaries.models import GROUP_TYPES
from portal.enrollments.models import LEGAL_BASES, ROLES, STATUSES
from portal.i18n import _l, number
from portal.lifecycle import RUN_STATUSES, TEMPLATE_STATUSES
from portal.program_templates.models import CATEGORIES

T = TypeVar("T")
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
RunStatus = Literal[RUN_STATUSES]  # type: ignore[valid-type]
TemplateStatus = Literal[TEMPLATE_STATUSES]  # type: ignore[valid-type]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
GroupType = Literal[GROUP_TYPES]  # type: ignore[valid-type]
EnrollmentStatus = Literal[STATUSES]  # type: ignore[valid-type]
EnrollmentRole = Literal[ROLES]  # type: ignore[valid-type]
LegalBasis = Literal[LEGAL_BASES]  # type: ignore[valid-type]


class Closed(BaseModel):
    """Unknown fields are refused (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    # Only the ISO text: pydantic would otherwise read a number as seconds since 1970.
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError(_l("Use a date as YYYY-MM-DD."))


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


# --- lists ----------------------------------------------------------------------------------
class ListQuery(Closed):
    cursor: str | None = Field(None, max_length=200, description="`next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=200, description="Items per page.")


class Page(Out, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


# --- me -----------------------------------------------------------------------------------------
class Me(Out):
    user_id: int
    name: str
    email: str
    role: str
    company_id: int | None
    token_name: str
    token_prefix: str
    scopes: list[str]
    expires_at: datetime


# --- templates ----------------------------------------------------------------------------------
class TemplateQuery(ListQuery):
    status: TemplateStatus | None = None
    category: Category | None = None
    key: str | None = Field(None, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")


class TemplateOut(Out):
    id: int
    key: str
    version: int
    name: str
    description: str
    category: str
    status: str
    tags: list[Any]
    sdg_goals: list[Any]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TemplateDetail(TemplateOut):
    config_schema: dict[str, Any]
    default_config: dict[str, Any]
    ui_schema: dict[str, Any] | None


# --- programs -----------------------------------------------------------------------------------
class ProgramQuery(ListQuery):
    status: RunStatus | None = None
    category: Category | None = None
    template_key: str | None = Field(None, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    group_id: Id | None = None


class TemplateRef(Out):
    id: int
    key: str
    version: int
    name: str


class GroupRef(Out):
    id: int
    name: str
    group_type: str
    country: str


class ProgramOut(Out):
    id: int
    key: str
    name: str
    description: str
    status: str
    visibility: str
    start_date: date | None
    end_date: date | None
    sdg_goals: list[Any]
    tags: list[Any]
    template: TemplateRef
    group: GroupRef
    created_at: datetime
    updated_at: datetime


class ProgramDetail(ProgramOut):
    config_overrides: dict[str, Any]


# --- catalog ----------------------------------------------------------------------------------
class CatalogQuery(ListQuery):
    limit: int = Field(24, ge=1, le=100, description="Cards per page.")
    category: Category | None = None
    group_type: GroupType | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 country of the beneficiary group.")
    language: str | None = Field(None, description="ISO 639-1 working language of the beneficiary group.")
    sdg: int | None = Field(None, ge=1, le=17)
    q: str | None = Field(None, max_length=100, description="Words in the program's or group's name or description.")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in reference.countries():
            raise ValueError(_l("Unknown country: use an ISO 3166-1 alpha-2 code such as NO."))
        return value.upper() if value else value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in reference.languages():
            raise ValueError(_l("Unknown language: use an ISO 639-1 code such as uk."))
        return value.lower() if value else value


class CatalogGroup(BaseModel):
    name: str
    group_type: str
    country: str
    languages: list[str]


class CatalogCardOut(BaseModel):
    id: int
    name: str
    description: str
    category: str
    sdg_goals: list[int]
    group: CatalogGroup
    enrolled_text: str = Field(description="Enrollments over all campaigns as the screens show them: rounded to 10 "
                                           "for companies, \"fewer than N\" for small numbers.")
    own_campaigns: int | None = Field(description="Your company's campaigns of it (null for program managers).")


# --- campaigns --------------------------------------------------------------------------------
class CampaignQuery(ListQuery):
    status: RunStatus | None = None
    program_id: Id | None = None
    company_id: Id | None = None


class CampaignOut(Out):
    id: int
    key: str
    name: str
    description: str
    status: str
    program_id: int
    company_id: int
    start_date: date
    end_date: date | None
    target_enrollment: int | None
    max_enrollment: int | None
    waitlist_enabled: bool
    target_volunteers: int | None
    currency: str
    budget_allocated: int | None = Field(description="Minor units.")
    seat_price: int | None = Field(description="Minor units.")
    enrolled_count: int = Field(description="Active and completed beneficiaries (the seats taken).")
    waitlisted_count: int
    internal_code: str | None = Field(description="The company's own project code.")
    tags: list[Any]
    config_overrides: dict[str, Any] = Field(description="The campaign's own configuration layer (over the "
                                                         "program's and the template's).")
    version: int = Field(description="Also the ETag; send it as If-Match when changing the campaign.")
    created_at: datetime
    updated_at: datetime


# --- enrollments -----------------------------------------------------------------------------
class EnrollmentQuery(ListQuery):
    status: EnrollmentStatus | None = None
    role: EnrollmentRole | None = None


class ParticipantOut(BaseModel):
    reference: str = Field(description="Program managers: the participant's reference. Company admins: your "
                                       "company's pseudonym for them (stable, unique to your company).")
    pseudonymised: bool = Field(description="True when you may not know who this is: only the reference is given.")
    id: int | None = None
    display_name: str | None = None
    email: str | None = None
    external_ref: str | None = None
    company_id: int | None = None


class EnrollmentOut(BaseModel):
    id: int
    campaign_id: int
    role: str
    status: str
    source: str
    participant: ParticipantOut
    enrolled_at: datetime | None
    waitlisted_at: datetime | None
    completed_at: datetime | None
    dropped_at: datetime | None
    drop_reason: str | None = Field(description="Null when the participant is pseudonymised for you.")
    legal_basis: LegalBasis | None = Field(description="What the participant's data is processed under (GDPR). Null "
                                                       "when the participant is pseudonymised for you.")
    consent_given_on: date | None = Field(description="For consent: the day it was given. Null otherwise, and when "
                                                      "the participant is pseudonymised for you.")
    consent_withdrawn_at: datetime | None = Field(description="When consent was withdrawn (nothing new is recorded "
                                                              "for the enrollment since). Null otherwise, and when "
                                                              "the participant is pseudonymised for you.")
    version: int = Field(description="Also the ETag; send it as If-Match to complete or drop.")
    created_at: datetime
    updated_at: datetime


class NewParticipant(Closed):
    display_name: str = Field(max_length=1000)
    email: str | None = Field(None, max_length=1000)
    year_of_birth: int | None = Field(None, ge=0, le=9999)
    languages: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=50)
    country: str | None = Field(None, max_length=100)
    external_ref: str | None = Field(None, max_length=1000)


class EnrollmentCreate(Closed):
    """Enroll an existing participant (``participant_id``) or find-or-create one from
    ``participant`` (matched by e-mail, then external reference, within your own people)."""

    role: EnrollmentRole = "beneficiary"
    participant_id: Id | None = None
    participant: NewParticipant | None = None
    legal_basis: LegalBasis | None = Field(None, description="What the enrollment's personal data is processed "
                                                             "under; legitimate_interest when left out.")
    consent_given_on: IsoDate | None = Field(None, description="Required for consent: the day the person gave it "
                                                               "(not in the future). Ignored for the other bases.")

    @model_validator(mode="after")
    def _one_participant(self) -> EnrollmentCreate:
        if (self.participant_id is None) == (self.participant is None):
            raise ValueError(_l("Give either participant_id or participant, not both or neither."))
        return self


class EnrollmentDrop(Closed):
    reason: str = Field("", max_length=500)


# --- deliveries (SPEC §2.9) ----------------------------------------------------------------
_ISO_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")


def _iso_time(value: Any) -> Any:
    if value is None or (isinstance(value, str) and _ISO_TIME.fullmatch(value)):
        return value
    raise ValueError(_l("Use a time as HH:MM (24-hour clock)."))


IsoTime = Annotated[time | None, BeforeValidator(_iso_time)]
Attendance = Literal["present", "excused", "unexcused"]
DeliverySource = Literal["api", "kintell", "buddy", "upskilling"]
KIND_PATTERN = r"^[a-z0-9_]{1,100}$"
MAX_BATCH_ITEMS = 10_000


class DeliveryFields(Closed):
    """What one delivery says (the delivery form's fields)."""

    kind: str = Field(max_length=100, description="A kind this program records: a key of the enrollment's effective "
                                                   "impact.sroiWeights (a wrong one is refused with the list).")
    occurred_on: IsoDate = Field(description="The day it happened: not in the future, not before the enrollment.")
    occurred_time: IsoTime = Field(None, description="HH:MM, optional.")
    quantity: Decimal | None = Field(None, allow_inf_nan=False, description="Zero or more, at most 3 decimals; 1 when "
                                                                            "omitted. A JSON number or a string.")
    duration_minutes: int | None = Field(None, description="Whole minutes, 0 to 1,440.")
    attendance: Attendance | None = Field(None, description="For sessions only; only present counts.")
    match_id: Id | None = Field(None, description="A session of this match: the partner's delivery is written too "
                                                  "(program managers).")
    partner_attendance: Literal["same", "present", "excused", "unexcused"] = Field(
        "same", description="The partner's attendance for a match session.")
    source_id: str | None = Field(None, max_length=100, description="Your system's id of this delivery: re-sending "
                                                                    "it with the same details adds nothing.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="A small JSON object, e.g. {\"rating\": 5}.")
    note: str | None = Field(None, max_length=2000, description="Program managers only; no e-mail address or phone "
                                                               "number.")


class DeliveryCreate(DeliveryFields):
    source: DeliverySource = Field("api", description="Which system sent it; source ids are unique per source.")


class DeliveryBatchItem(DeliveryFields):
    enrollment_id: Id | None = Field(None, description="An enrollment of this campaign. May be left out when "
                                                       "match_id is given (the pair's session).")


class DeliveryBatch(Closed):
    """Many deliveries of one campaign, all or nothing (the CSV import's semantics)."""

    dry_run: bool = Field(False, description="True: check every item and say what would be recorded, saving nothing.")
    source: DeliverySource = "api"
    items: list[DeliveryBatchItem] = Field(description=f"1 to {MAX_BATCH_ITEMS:,} deliveries.")

    @field_validator("items", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_BATCH_ITEMS:
            raise ValueError(_l("Send at most %(max)s items in one batch (this one has %(count)s): split it into "
                                "several batches.", max=number(MAX_BATCH_ITEMS), count=number(len(value))))
        if isinstance(value, list) and not value:
            raise ValueError(_l("Send at least one item."))
        return value


class DeliveryBatchResult(BaseModel):
    dry_run: bool = Field(description="True: nothing was saved; the figures say what confirming would do.")
    items: int
    recorded: int = Field(description="Items recorded (or, in a dry run, that would be).")
    already_recorded: int = Field(description="Items whose source_id was already recorded with the same details: "
                                              "they add nothing.")
    already_recorded_items: list[int] = Field(description="Their indexes in items.")
    deliveries: int = Field(description="Deliveries written: a match session writes one on each side.")
    attendance: dict[str, int] = Field(description="Deliveries written by attendance (\"none\" for kinds without).")
    milestones_reached: int


class DeliveryCorrection(Closed):
    """Only the fields sent change (the others keep their values)."""

    kind: str | None = Field(None, max_length=100)
    occurred_on: IsoDate | None = None
    occurred_time: IsoTime = None
    quantity: Decimal | None = Field(None, allow_inf_nan=False)
    duration_minutes: int | None = None
    attendance: Attendance | None = None
    metadata: dict[str, Any] | None = None
    note: str | None = Field(None, max_length=2000)


class DeliveryVoid(Closed):
    reason: str = Field("", max_length=500)


class DeliveryQuery(ListQuery):
    kind: str | None = Field(None, pattern=KIND_PATTERN)


class DeliveryOut(BaseModel):
    id: int
    enrollment_id: int
    campaign_id: int
    kind: str
    kind_label: str
    occurred_on: date
    occurred_time: time | None
    quantity: str = Field(description="Exact decimal, as text.")
    duration_minutes: int | None
    attendance: str | None
    counts: bool = Field(description="Counts towards progress: not void, and present where attendance applies.")
    match_id: int | None
    counterpart_id: int | None = Field(description="The partner's delivery of the same match session.")
    source: str
    source_id: str | None = Field(description="Null when the participant is pseudonymised for you.")
    metadata: dict[str, Any] | None = Field(description="Null when the participant is pseudonymised for you.")
    note: str | None = Field(description="Program managers only.")
    voided_at: datetime | None
    void_reason: str | None = Field(description="Program managers only.")
    version: int = Field(description="Also the ETag; send it as If-Match to correct or void.")
    created_at: datetime
    updated_at: datetime


# --- campaign writes (SPEC §2.4) ------------------------------------------------------------
# The campaign form's bounds (portal.campaigns.forms): counts of people, and money in minor units
# (the form's 10^13 in major units). The rules themselves are the campaign operations'.
Count = Annotated[int, Field(ge=0, le=10**7)]
MinorUnits = Annotated[int, Field(ge=0, le=10**15, description="Minor units (cents).")]


class CampaignCreate(Closed):
    """A new campaign, created as a draft (the start-a-campaign screen's fields)."""

    program_id: Id = Field(description="A program of the catalog (active and public).")
    company_id: Id | None = Field(None, description="The sponsoring company. Company admins: their own (the "
                                                    "default); program managers: required.")
    name: str = Field(max_length=255)
    key: str = Field("", max_length=100, description="Unique within the company; generated from the name when "
                                                     "left out.")
    description: str = Field("", max_length=5000)
    start_date: IsoDate
    end_date: IsoDate | None = Field(None, description="On or after the start date.")
    target_enrollment: Count | None = Field(None, description="The goal: beneficiaries you aim to reach.")
    max_enrollment: Count | None = Field(None, description="Hard cap on active + completed beneficiaries; null: "
                                                           "no cap. At least the target.")
    waitlist_enabled: bool = Field(False, description="Waitlist beneficiaries when the campaign is full.")
    target_volunteers: Count | None = None
    currency: str = Field("EUR", max_length=3, description="ISO 4217 code of the amounts, e.g. EUR, NOK.")
    budget_allocated: MinorUnits | None = Field(None, description="Minor units; null: no budget limit.")
    seat_price: MinorUnits | None = Field(None, description="Minor units: the cost of one beneficiary seat.")
    internal_code: str | None = Field(None, max_length=100, description="The company's own project code.")
    tags: list[str] = Field(default_factory=list, description="At most 20 tags of up to 50 characters.")
    config_overrides: dict[str, Any] = Field(
        default_factory=dict, description="The campaign's configuration layer, validated against the template's "
                                          "schema over the program's layer. Impact settings (impact.*) are the "
                                          "program team's: a campaign may not set them.")


class CampaignUpdate(Closed):
    """Only the fields sent change (the others keep their values); null clears a field that
    may be empty. ``config_overrides``, when sent, replaces the campaign's configuration layer
    (as the configuration screen saves it)."""

    name: str = Field(None, max_length=255)
    description: str = Field(None, max_length=5000)
    start_date: IsoDate = None
    end_date: IsoDate | None = None
    target_enrollment: Count | None = None
    max_enrollment: Count | None = Field(None, description="Not below the seats already taken; raising it (or the "
                                                           "budget) promotes waitlisted beneficiaries, oldest first.")
    waitlist_enabled: bool = None
    target_volunteers: Count | None = None
    currency: str = Field(None, max_length=3)
    budget_allocated: MinorUnits | None = None
    seat_price: MinorUnits | None = None
    internal_code: str | None = Field(None, max_length=100)
    tags: list[str] = None
    config_overrides: dict[str, Any] = Field(None, description="Replaces the campaign's configuration layer; "
                                                               "impact.* is refused.")


# --- matches (SPEC §2.8) -------------------------------------------------------------------------
class MatchQuery(ListQuery):
    status: Literal["proposed", "active", "ended"] | None = None


class MatchSide(BaseModel):
    enrollment_id: int
    participant: ParticipantOut


class MatchOut(BaseModel):
    id: int
    campaign_id: int
    status: str
    volunteer: MatchSide
    beneficiary: MatchSide
    proposed_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None = Field(description="Program managers only.")
    version: int = Field(description="Also the ETag; send it as If-Match to confirm or end.")
    created_at: datetime
    updated_at: datetime


class MatchPropose(Closed):
    volunteer_enrollment_id: Id
    beneficiary_enrollment_id: Id


class MatchEnd(Closed):
    reason: str = Field("", max_length=500)


# --- impact (SPEC §2.11) -------------------------------------------------------------------------
class PointsRowOut(BaseModel):
    kind: str
    label: str
    withheld: bool = Field(description="Resting on too few beneficiaries for you: its figures are null.")
    events: int | None
    weight: str | None = Field(description="Null when withheld, or when the configuration gives the kind no weight.")
    layer: str | None = Field(description="The configuration layer the weight came from (template or program).")
    points: str | None


class PointsOut(BaseModel):
    withheld: bool = Field(description="The whole figure is withheld from you (fewer beneficiaries than the "
                                       "cohort minimum): no total, no rows.")
    total_withheld: bool = Field(description="The total is withheld: beside the withheld rows it would reveal them.")
    reason: str | None
    total: str | None = Field(description="Points to one decimal (an engagement score, not money).")
    events: int | None
    decay: str
    decay_layer: str | None
    rows: list[PointsRowOut]


class ValuationSetRef(BaseModel):
    key: str
    version: int
    name: str
    status: str
    currency: str
    discount_rate: str = Field(description="Percent.")


class SroiOutcomeOut(BaseModel):
    outcome_type: str
    outcome: str
    label: str
    proxy_minor: int
    source_text: str
    source_url: str
    deadweight: str
    displacement: str
    attribution: str
    drop_off: str
    duration_years: int
    withheld: bool
    quantity: str | None
    value_year_one_minor: int | None = Field(description="Minor units, rounded half up.")
    present_value_minor: int | None = Field(description="Minor units, rounded half up.")


class L2IShareOut(BaseModel):
    share_bp: int
    amount_minor: int


class InvestmentOut(BaseModel):
    currency: str
    budget_minor: int
    l2i: list[L2IShareOut]
    total_minor: int


class SroiOut(BaseModel):
    available: bool = Field(description="False: no SROI (no valuation set, or a currency mismatch); see refusal.")
    refusal: str | None
    valuation_set: ValuationSetRef | None
    withheld: bool
    total_withheld: bool
    reason: str | None
    ratio: str | None = Field(description="Social value per unit invested, to two decimals.")
    sentence: str | None
    band: list[str] | None = Field(description="The sensitivity band: [low, high] ratios.")
    present_value_minor: int | None
    investment: InvestmentOut | None
    outcomes: list[SroiOutcomeOut]


class ImpactQuery(Closed):
    """No parameters: the figures are as of today (an unknown parameter, e.g. a period, is a 422)."""


class ImpactOut(BaseModel):
    campaign_id: int
    as_of: date
    min_cohort: int | None = Field(description="The cohort minimum applied to you (null: nothing is withheld).")
    points: PointsOut
    volunteers: PointsOut = Field(description="The volunteers' own score (visMultipliers).")
    sroi: SroiOut


# --- activity feed (SPEC §2.7) ---------------------------------------------------------------
class EventQuery(Closed):
    after: str | None = Field(None, max_length=200, description="`next_cursor` of the previous call: the events "
                                                               "after it.")
    limit: int = Field(100, ge=1, le=500)
    since: datetime | None = Field(None, description="Without `after`: start at this time (ISO 8601, UTC when no "
                                                     "offset is given).")
    type: str | None = Field(None, max_length=64, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$",
                             description="An event type, or a prefix of one (program.enrollment).")


class EventChangeOut(BaseModel):
    field: str
    old: str | None = Field(description="Null when the value is not shown to you (only that it changed).")
    new: str | None


class ActivityEventOut(BaseModel):
    id: int
    type: str
    kind: str = Field(description="The kind of change in words.")
    occurred_at: datetime
    company_id: int | None
    subject_type: str
    subject_id: int | None = Field(description="Null for a participant you may not identify.")
    summary: str = Field(description="The sentence the activity log shows you.")
    changes: list[EventChangeOut]
    screen_url: str | None = Field(description="The screen of the object, when you may open it.")


class ActivityFeed(BaseModel):
    items: list[ActivityEventOut]
    next_cursor: str | None = Field(description="Pass as `after` for the events after these; it stays the same "
                                                "while no new events exist (null only when there are none at all).")
