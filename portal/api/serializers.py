"""Domain objects as API documents, for one viewer. Privacy is the screens' own rule
(:mod:`portal.enrollments.privacy`): a company admin sees its own employees, and everyone
else only under the company's pseudonym — no id, name, e-mail, reference or note."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.api import schemas
from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.catalog.queries import CatalogCard
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference, may_see_identity
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program


def _text(value: Any) -> Any:
    """Words the screens show (a kind's label, a sentence, a reason) as text in the request's
    language: they may be lazy messages, which neither pydantic nor JSON take."""
    return value if value is None or isinstance(value, str) else str(value)


def template(t: ProgramTemplate, *, detail: bool = False) -> dict[str, Any]:
    model = schemas.TemplateDetail if detail else schemas.TemplateOut
    return model.model_validate(t).model_dump(mode="json")


def program(p: Program, *, detail: bool = False) -> dict[str, Any]:
    model = schemas.ProgramDetail if detail else schemas.ProgramOut
    return model.model_validate(p).model_dump(mode="json")


def campaign(c: Campaign) -> dict[str, Any]:
    data = schemas.CampaignOut.model_validate({**{k: getattr(c, k) for k in schemas.CampaignOut.model_fields
                                                  if k != "version"}, "version": c.lock_version})
    return data.model_dump(mode="json")


def participant(viewer: User, person: Participant, campaign_: Campaign) -> dict[str, Any]:
    if viewer.is_program_manager:
        return schemas.ParticipantOut(reference=person.ref, pseudonymised=False, id=person.id,
                                      display_name=person.display_name, email=person.email,
                                      external_ref=person.external_ref, company_id=person.company_id).model_dump()
    reference = company_reference(viewer.company, person.id)
    if may_see_identity(viewer, person):  # the company's own employee
        return schemas.ParticipantOut(reference=reference, pseudonymised=False, id=person.id,
                                      display_name=person.display_name, email=person.email,
                                      external_ref=person.external_ref, company_id=person.company_id).model_dump()
    return schemas.ParticipantOut(reference=reference, pseudonymised=True).model_dump()


def enrollment(viewer: User, e: Enrollment, campaign_: Campaign) -> dict[str, Any]:
    person = participant(viewer, e.participant, campaign_)
    data = schemas.EnrollmentOut(
        id=e.id, campaign_id=e.campaign_id, role=e.role, status=e.status, source=e.source, participant=person,
        enrolled_at=e.enrolled_at, waitlisted_at=e.waitlisted_at, completed_at=e.completed_at,
        dropped_at=e.dropped_at, drop_reason=None if person["pseudonymised"] else e.drop_reason,
        # The legal basis is about the person: only to those who may know who they are.
        legal_basis=None if person["pseudonymised"] else e.legal_basis,
        consent_given_on=None if person["pseudonymised"] else e.consent_given_on,
        consent_withdrawn_at=None if person["pseudonymised"] else e.consent_withdrawn_at,
        version=e.lock_version, created_at=e.created_at, updated_at=e.updated_at)
    return data.model_dump(mode="json")


def catalog_card(card: CatalogCard) -> dict[str, Any]:
    return schemas.CatalogCardOut(
        id=card.id, name=card.name, description=card.description, category=card.category, sdg_goals=card.sdg_goals,
        group=schemas.CatalogGroup(name=card.group_name, group_type=card.group_type, country=card.country,
                                   languages=card.languages),
        enrolled_text=_text(card.enrolled_text), own_campaigns=card.own_campaigns).model_dump(mode="json")


# --- deliveries, matches, impact, events ------------------------------------------------------
def _identifiable(viewer: User, person: Participant) -> bool:
    return viewer.is_program_manager or may_see_identity(viewer, person)


def delivery(viewer: User, d: Any, enrollment_: Enrollment) -> dict[str, Any]:
    """A delivery as the enrollment page shows it: notes and void reasons to the program team
    only; source ids and metadata only to those who may know who the participant is."""
    from portal.deliveries.kinds import kind_label

    known = _identifiable(viewer, enrollment_.participant)
    pm = viewer.is_program_manager
    return schemas.DeliveryOut(
        id=d.id, enrollment_id=d.enrollment_id, campaign_id=enrollment_.campaign_id, kind=d.kind,
        kind_label=_text(kind_label(d.kind)), occurred_on=d.occurred_on, occurred_time=d.occurred_time,
        quantity=format(Decimal(d.quantity).normalize(), "f"), duration_minutes=d.duration_minutes,
        attendance=d.attendance, counts=d.counts, match_id=d.match_id, counterpart_id=d.counterpart_id,
        source=d.source, source_id=d.source_id if known else None, metadata=(d.meta or {}) if known else None,
        note=d.note if pm else None, voided_at=d.voided_at, void_reason=d.void_reason if pm else None,
        version=d.lock_version, created_at=d.created_at, updated_at=d.updated_at).model_dump(mode="json")


def match(viewer: User, m: Any, campaign_: Campaign) -> dict[str, Any]:
    """A match as the match screen shows it: each side through :func:`participant` (the
    beneficiary as the company's pseudonym for company admins), no end reason for them."""
    return schemas.MatchOut(
        id=m.id, campaign_id=m.campaign_id, status=m.status,
        volunteer=schemas.MatchSide(enrollment_id=m.volunteer_enrollment_id,
                                    participant=participant(viewer, m.volunteer.participant, campaign_)),
        beneficiary=schemas.MatchSide(enrollment_id=m.beneficiary_enrollment_id,
                                      participant=participant(viewer, m.beneficiary.participant, campaign_)),
        proposed_at=m.proposed_at, started_at=m.started_at, ended_at=m.ended_at,
        end_reason=m.end_reason if viewer.is_program_manager else None, version=m.lock_version,
        created_at=m.created_at, updated_at=m.updated_at).model_dump(mode="json")


def _points(score: Any) -> schemas.PointsOut:
    """A points figure with exactly what the impact page shows: nothing of a withheld figure,
    no total beside rows it would give away, no figures of a withheld row."""
    from portal.impact.points import points_text

    rows = [] if score.withheld else [
        schemas.PointsRowOut(kind=r.kind, label=_text(r.label), withheld=r.withheld,
                             events=None if r.withheld else r.events,
                             weight=None if r.withheld or r.weight is None else format(r.weight.normalize(), "f"),
                             layer=None if r.withheld else r.layer,
                             points=None if r.withheld else points_text(r.points).replace(",", ""))
        for r in score.rows]
    hidden = score.withheld or score.total_withheld
    return schemas.PointsOut(withheld=score.withheld, total_withheld=hidden, reason=_text(score.reason),
                             total=None if hidden else points_text(score.total).replace(",", ""),
                             events=None if score.withheld else score.events,
                             decay=format(Decimal(score.decay).normalize(), "f"), decay_layer=score.decay_layer,
                             rows=rows)


def _percent(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _sroi(fig: Any) -> schemas.SroiOut:
    from portal.impact.sroi import ratio_text, round_minor, sroi_sentence

    vs = fig.valuation_set
    ref = schemas.ValuationSetRef(key=vs.key, version=vs.version, name=vs.name, status=vs.status,
                                  currency=vs.currency, discount_rate=_percent(vs.discount_rate)) if vs else None
    empty = dict(withheld=fig.withheld, total_withheld=fig.withheld or fig.total_withheld, reason=_text(fig.reason),
                 ratio=None, sentence=None, band=None, present_value_minor=None, investment=None, outcomes=[])
    if fig.result is None:
        return schemas.SroiOut(available=False, refusal=_text(fig.refusal), valuation_set=ref, **empty)
    if fig.withheld:  # the page says only that it is withheld
        return schemas.SroiOut(available=True, refusal=None, valuation_set=ref, **empty)
    result, inv = fig.result, fig.investment
    outcomes = []
    for r in fig.rows:
        e = r.entry
        outcomes.append(schemas.SroiOutcomeOut(
            outcome_type=e.outcome_type, outcome=e.outcome, label=_text(r.label), proxy_minor=e.proxy_minor,
            source_text=e.source_text, source_url=e.source_url, deadweight=_percent(e.deadweight),
            displacement=_percent(e.displacement), attribution=_percent(e.attribution), drop_off=_percent(e.drop_off),
            duration_years=e.duration_years, withheld=r.withheld,
            quantity=None if r.withheld else format(r.value.quantity.normalize(), "f"),
            value_year_one_minor=None if r.withheld else round_minor(r.value.impact),
            present_value_minor=None if r.withheld else round_minor(r.value.present_value)))
    ratio = result.ratio
    return schemas.SroiOut(
        available=True, refusal=_text(fig.refusal), valuation_set=ref, withheld=False,
        total_withheld=fig.total_withheld, reason=_text(fig.reason), ratio=None if ratio is None else ratio_text(ratio).replace(",", ""),
        sentence=None if ratio is None else _text(sroi_sentence(ratio, fig.currency)),
        band=None if result.band is None else [ratio_text(b).replace(",", "") for b in result.band],
        present_value_minor=None if fig.total_withheld else round_minor(result.present_value),
        investment=schemas.InvestmentOut(currency=inv.currency, budget_minor=inv.budget,
                                         l2i=[schemas.L2IShareOut(share_bp=a.share_bp, amount_minor=amount)
                                              for a, amount in inv.l2i], total_minor=inv.total),
        outcomes=outcomes)


def impact(campaign_: Campaign, figures: Any, as_of: Any, min_cohort: int | None) -> dict[str, Any]:
    """:func:`portal.impact.queries.campaign_impact`'s figures, withheld as the page withholds them."""
    return schemas.ImpactOut(campaign_id=campaign_.id, as_of=as_of, min_cohort=min_cohort,
                             points=_points(figures.points), volunteers=_points(figures.volunteers),
                             sroi=_sroi(figures.sroi)).model_dump(mode="json")


def activity_event(viewer: User, event: Any, sentence: Any) -> dict[str, Any]:
    """An event as the activity log tells it to ``viewer`` (the describer's sentence and
    changes, never the raw data); a participant's id only to the program team."""
    hide_subject = event.subject_type == "participants" and not viewer.is_program_manager
    return schemas.ActivityEventOut(
        id=event.id, type=event.type, kind=_text(sentence.kind), occurred_at=event.created_at, company_id=event.company_id,
        subject_type=event.subject_type, subject_id=None if hide_subject else event.subject_id,
        summary=_text(sentence.text),
        changes=[schemas.EventChangeOut(field=_text(c.label), old=_text(c.old), new=_text(c.new))
                 for c in sentence.changes],
        screen_url=sentence.url).model_dump(mode="json")
