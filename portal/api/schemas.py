"""The API's documents (pydantic models): what the OpenAPI document describes and every
answer is checked against. Filters are closed sets where the domain has them (a value
outside is a 422, never "no filter"); query models forbid unknown parameters."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from portal import reference
from portal.beneficiaries.models import GROUP_TYPES
from portal.enrollments.models import ROLES, STATUSES
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


class Closed(BaseModel):
    """Unknown fields are refused (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


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
            raise ValueError("Unknown country: use an ISO 3166-1 alpha-2 code such as NO.")
        return value.upper() if value else value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in reference.languages():
            raise ValueError("Unknown language: use an ISO 639-1 code such as uk.")
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
    tags: list[Any]
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

    @model_validator(mode="after")
    def _one_participant(self) -> EnrollmentCreate:
        if (self.participant_id is None) == (self.participant is None):
            raise ValueError("Give either participant_id or participant, not both or neither.")
        return self


class EnrollmentDrop(Closed):
    reason: str = Field("", max_length=500)
