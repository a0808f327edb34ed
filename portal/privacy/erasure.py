"""Erasure (GDPR Art. 17, SPEC §2.12): remove a person's identity, keep every figure.

One operation, one transaction (the caller's). The participant row, its enrollments and
its deliveries stay — they are the seats, the counts, the milestones and the points
already reported — but nothing in them names the person any more:

- the participant: name → "Erased participant" / "Erased volunteer"; e-mail, year of
  birth, languages, country and external reference cleared; disabled (no new enrollment);
  ``erased_at`` set. With the e-mail and reference gone, no search, CSV import or
  enroll form can match them again: re-importing the old e-mail creates a new person.
- their enrollments: free-text metadata, drop reason and source id cleared (metadata that
  figures read — numbers, yes/no, CEFR levels such as ``starting_cefr`` — stays);
- their deliveries: note, void reason and free-text metadata cleared;
- their matches: open ones end through the match operation's end path (the volunteer's
  slot is freed); every end reason cleared;
- every activity event about them, and any other event, job or stored file whose data
  mentions one of their former values, is scrubbed in place (events are kept, so counts and
  timelines stay); an uploaded or exported file that contains them is deleted;
- the API's stored answers (kept a day for Idempotency-Key replays) that concern them lose
  every mention, and the hash of the request they answered is replaced by a value no request
  hashes to: a replay of such a key is refused as a reused key, so it neither shows the
  person nor enrolls them again (see :func:`_scrub_stored_answers`);
- their data-subject requests (:mod:`.requests`): notes cleared, references scrubbed of any
  mention; every open one is closed as answered by erasure;
- one ``participant.erased`` event that holds only counts.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.activity.operations import record_event
from portal.api.models import ERASED_FINGERPRINT, IdempotencyKey
from portal.db import db, utcnow
from portal.deliveries.models import Delivery
from portal.enrollments.models import Enrollment, Participant
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _, _l, show_date
from portal.jobs.models import Job, StoredFile
from portal.matches.models import ENDED, Match
from portal.privacy.models import ERASED, DataSubjectRequest
from portal.privacy.requests import close_open_requests

if TYPE_CHECKING:
    from portal.auth.models import User

# The word typed to confirm an erasure (besides the participant's reference): ERASE, which is
# accepted in every language, or the word of the reader's language ("SLETT", "ВИДАЛИТИ"),
# typed exactly as shown. Translators: the confirmation word, in capitals.
ERASE_WORD = "ERASE"
LOCAL_ERASE_WORD = _l("ERASE")
ERASED_TEXT = "[erased]"
ERASED_PARTICIPANT, ERASED_VOLUNTEER = "Erased participant", "Erased volunteer"
REQUEST, RETENTION = "request", "retention"
# Keys whose values are the person's data wherever they appear in an event about them.
PERSONAL_KEYS = frozenset({
    "display_name", "email", "year_of_birth", "languages", "country", "external_ref", "reason", "drop_reason",
    "note", "void_reason", "end_reason", "meta", "metadata", "source_id",
})
_CEFR = re.compile(r"^(A1|A2|B1|B2|C1|C2)$", re.IGNORECASE)
# A former value shorter than this is scrubbed only where a whole string equals it (a
# two-letter name must not blank every text that happens to contain those letters).
_MIN_CONTAINED = 3


class AlreadyErased(DomainError):
    status_code = 409


@dataclass
class ErasureResult:
    participant_id: int
    enrollments: int
    deliveries: int
    matches_ended: int
    events_scrubbed: int
    files_deleted: int


# --- pure rules ---------------------------------------------------------------------------
def erase_word() -> str:
    """The confirmation word the screen asks for, in the reader's language."""
    return str(LOCAL_ERASE_WORD)


def confirmation_matches(participant: Participant, typed: Any) -> bool:
    """The typed confirmation: the participant's reference (any case), the word ERASE, or
    the reader's language's word for it (exactly as shown: "SLETT", "ВИДАЛИТИ")."""
    text = str(typed or "").strip()
    return text in (ERASE_WORD, erase_word()) or (bool(text) and text.upper() == participant.ref)


def erased_name(participant_company_id: int | None, roles: set[str]) -> str:
    """What an erased person is called from now on: a company's employee (or someone who
    only ever volunteered) is an "erased volunteer", everyone else an "erased participant"."""
    if participant_company_id is not None or (roles and roles <= {"volunteer"}):
        return ERASED_VOLUNTEER
    return ERASED_PARTICIPANT


def kept_metadata(meta: Any) -> dict[str, Any]:
    """Metadata without free text: numbers, yes/no and CEFR levels stay (progress and
    figures read them); any other string, list or object is dropped."""
    if not isinstance(meta, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in meta.items():
        if value is None or isinstance(value, (bool, int, float)):
            kept[key] = value
        elif isinstance(value, str) and _CEFR.match(value.strip()):
            kept[key] = value
    return kept


def mentions(text: str, needles: list[str]) -> bool:
    """Whether ``text`` holds one of ``needles`` (case-insensitively; short needles only as
    the whole text)."""
    folded = text.casefold()
    for needle in needles:
        n = needle.casefold()
        if folded == n or (len(n) >= _MIN_CONTAINED and n in folded):
            return True
    return False


def scrub(value: Any, needles: list[str], *, personal_keys: frozenset[str] = frozenset()) -> Any:
    """``value`` (a JSON document) with every string mentioning a needle replaced by
    "[erased]", and the values under ``personal_keys`` erased (a {"from", "to"} change
    keeps its shape)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in personal_keys and item not in (None, "", [], {}):
                if isinstance(item, dict) and ({"from", "to"} & set(item)):
                    out[key] = {k: (ERASED_TEXT if k in ("from", "to") else v) for k, v in item.items()}
                else:
                    out[key] = ERASED_TEXT
            else:
                out[key] = scrub(item, needles, personal_keys=personal_keys)
        return out
    if isinstance(value, list):
        return [scrub(item, needles, personal_keys=personal_keys) for item in value]
    if isinstance(value, str) and mentions(value, needles):
        return ERASED_TEXT
    return value


# --- reading what is held -------------------------------------------------------------------
def _texts_of(meta: Any) -> list[str]:
    """Every string inside a metadata document (its free text)."""
    if isinstance(meta, dict):
        return [t for v in meta.values() for t in _texts_of(v)]
    if isinstance(meta, list):
        return [t for v in meta for t in _texts_of(v)]
    return [meta] if isinstance(meta, str) else []


def former_values(participant: Participant, enrollments: list[Enrollment], deliveries: list[Delivery],
                  matches: list[Match], request_notes: list[str] | None = None) -> list[str]:
    """The texts that identify the person or were written about them: name, e-mail,
    external reference, notes (their requests' too), reasons and free-text metadata."""
    values = [participant.display_name, participant.email, participant.external_ref, *(request_notes or [])]
    for e in enrollments:
        values += [e.drop_reason, e.source_id, *(t for t in _texts_of(e.meta) if not _CEFR.match(t.strip()))]
    for d in deliveries:
        values += [d.note, d.void_reason, *(t for t in _texts_of(d.meta) if not _CEFR.match(t.strip()))]
    values += [m.end_reason for m in matches]
    cleaned = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    return sorted(set(cleaned), key=lambda v: (-len(v), v))


def _like_any(column: Any, needles: list[str]) -> sa.ColumnElement[bool]:
    """The column's text holds a needle as stored: raw (PostgreSQL's JSONB text) or with
    JSON's escapes (SQLite's JSON text keeps non-ASCII as \\uXXXX)."""
    patterns: set[str] = set()
    for needle in needles:
        if len(needle) < _MIN_CONTAINED:
            continue
        for form in (needle, json.dumps(needle)[1:-1]):
            escaped = form.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            patterns.add(f"%{escaped}%")
    text = sa.func.lower(sa.cast(column, sa.Text))
    return sa.or_(sa.false(), *(text.like(p, escape="\\") for p in sorted(patterns)))


# --- the operation -------------------------------------------------------------------------
def erase_participant(actor: User | None, participant: Participant, *, confirmation: Any = None,
                      reason: str = REQUEST) -> ErasureResult:
    """Erase ``participant``'s identity (see the module doc). ``confirmation`` must be
    their reference or the word ERASE (retention passes ``participant.ref``); a second
    erasure is refused (409). Call inside ``transaction()`` with the participant locked."""
    if participant.erased_at is not None:
        raise AlreadyErased(_l("This participant's data was already erased on %(day)s; there is nothing left to "
                               "erase.", day=show_date(participant.erased_at.date())))
    if not confirmation_matches(participant, confirmation):
        raise ValidationFailed({"confirmation": [_l("That does not match: type %(ref)s or %(word)s to confirm.",
                                                    ref=participant.ref, word=erase_word())]})
    enrollments = list(db.session.scalars(sa.select(Enrollment).where(Enrollment.participant_id == participant.id)
                                          .order_by(Enrollment.id).with_for_update()))
    enrollment_ids = [e.id for e in enrollments]
    deliveries = list(db.session.scalars(sa.select(Delivery).where(Delivery.enrollment_id.in_(enrollment_ids))
                                         .order_by(Delivery.id))) if enrollment_ids else []
    mine = sa.or_(Match.volunteer_enrollment_id.in_(enrollment_ids), Match.beneficiary_enrollment_id.in_(enrollment_ids))
    matches = list(db.session.scalars(sa.select(Match).where(mine).order_by(Match.id))) if enrollment_ids else []
    requests = list(db.session.scalars(sa.select(DataSubjectRequest).where(
        DataSubjectRequest.participant_id == participant.id).order_by(DataSubjectRequest.id).with_for_update()))
    needles = former_values(participant, enrollments, deliveries, matches,
                            [r.outcome_note for r in requests if r.outcome_note])

    matches_ended = _end_matches(actor, enrollments, matches)
    for enrollment in enrollments:
        enrollment.meta = kept_metadata(enrollment.meta)
        enrollment.drop_reason = None
        enrollment.source_id = None
    for delivery in deliveries:
        delivery.meta = kept_metadata(delivery.meta)
        delivery.note = None
        delivery.void_reason = None
    for request in requests:  # the register keeps kind, dates and outcome; notes go, references lose any mention
        request.outcome_note = None
        request.reference = scrub(request.reference, needles) if request.reference else None
    participant.display_name = erased_name(participant.company_id, {e.role for e in enrollments})
    participant.email = participant.external_ref = participant.country = participant.year_of_birth = None
    participant.languages = []
    participant.is_enabled = False
    participant.erased_at = utcnow()
    db.session.flush()

    events = _scrub_events(participant.id, enrollment_ids, [d.id for d in deliveries], [m.id for m in matches],
                           needles)
    _scrub_jobs_and_files(needles)
    _scrub_stored_answers(needles, enrollment_ids, [m.id for m in matches])
    files = _delete_files_holding(needles)
    answered = close_open_requests(actor, participant, ERASED)  # erasure answers every open request of theirs
    result = ErasureResult(participant.id, len(enrollments), len(deliveries), matches_ended, events, files)
    record_event("participant.erased", actor=actor, subject=participant, company_id=participant.company_id,
                 data={"reason": reason if reason in (REQUEST, RETENTION) else REQUEST,
                       "enrollments": result.enrollments, "deliveries": result.deliveries,
                       "matches_ended": matches_ended, "events_scrubbed": events,
                       "requests_closed": len(answered)},
                 label=participant.display_name)
    return result


def _end_matches(actor: User | None, enrollments: list[Enrollment], matches: list[Match]) -> int:
    """Clear every end reason (free text about the pair), then end the open matches through
    the match operation's end path."""
    from portal.matches.operations import end_matches_of

    for match in matches:
        if match.status == ENDED:
            match.end_reason = None
    db.session.flush()
    ended = 0
    for enrollment in enrollments:
        ended += len(end_matches_of(enrollment, actor, _("The participant's data was erased.")))  # stored
    return ended


def _scrub_events(participant_id: int, enrollment_ids: list[int], delivery_ids: list[int], match_ids: list[int],
                  needles: list[str]) -> int:
    """Scrub, never drop: the events about the person lose their personal keys, and any
    event whose data or label mentions a former value loses that text."""
    about = [sa.and_(ActivityEvent.subject_type == "participants", ActivityEvent.subject_id == participant_id)]
    for subject_type, ids in (("enrollments", enrollment_ids), ("deliveries", delivery_ids), ("matches", match_ids)):
        if ids:
            about.append(sa.and_(ActivityEvent.subject_type == subject_type, ActivityEvent.subject_id.in_(ids)))
    own = sa.or_(*about)
    mentioning = sa.or_(_like_any(ActivityEvent.data, needles), _like_any(ActivityEvent.subject_label, needles))
    scrubbed = 0
    for event in db.session.scalars(sa.select(ActivityEvent).where(sa.or_(own, mentioning))):
        is_own = (event.subject_type, event.subject_id) == ("participants", participant_id) or (
            event.subject_type == "enrollments" and event.subject_id in enrollment_ids) or (
            event.subject_type == "deliveries" and event.subject_id in delivery_ids) or (
            event.subject_type == "matches" and event.subject_id in match_ids)
        data = scrub(event.data or {}, needles, personal_keys=PERSONAL_KEYS if is_own else frozenset())
        label = ERASED_TEXT if mentions(event.subject_label or "", needles) else event.subject_label
        if data != (event.data or {}) or label != event.subject_label:
            event.data, event.subject_label = data, label
            scrubbed += 1
    db.session.flush()
    return scrubbed


def _scrub_jobs_and_files(needles: list[str]) -> None:
    """Job parameters, results and errors and stored files' summaries (an import's dry run
    lists its error rows' e-mails) lose any text that mentions the person."""
    for job in db.session.scalars(sa.select(Job).where(sa.or_(
            _like_any(Job.params, needles), _like_any(Job.result, needles), _like_any(Job.error, needles)))):
        job.params = scrub(job.params or {}, needles)
        job.result = scrub(job.result, needles) if job.result is not None else None
        job.error = ERASED_TEXT if job.error and mentions(job.error, needles) else job.error
    for stored in db.session.scalars(sa.select(StoredFile).where(sa.or_(
            _like_any(StoredFile.meta, needles), _like_any(StoredFile.filename, needles)))):
        stored.meta = scrub(stored.meta or {}, needles)
        stored.filename = "erased.csv" if mentions(stored.filename or "", needles) else stored.filename
    db.session.flush()


def _scrub_stored_answers(needles: list[str], enrollment_ids: list[int], match_ids: list[int]) -> None:
    """The API's stored answers that concern the person, and the requests they answered.

    A stored key concerns them when its answer mentions a former value (a connector's
    enrollment answer names them) or when its path or ``Location`` names one of their
    enrollments or matches (an answer may name them only by id, or by a name they had before
    an edit). Its answer loses every mention (found by id: every personal key too). Its
    ``fingerprint`` is a hash of the request body, which held their e-mail or name: anyone
    with a guess could recompute it and confirm the guess. It becomes
    :data:`~portal.api.models.ERASED_FINGERPRINT`, which no request hashes to, so from now on
    every request with that key — the original retry included — gets the answer a reused key
    gets (422 ``idempotency-key-reused``: "use a new key for a new change"). The row stays
    until it expires, so the key can neither replay the person nor enroll them again
    silently, and the answer is the same whatever body comes with the key (it cannot tell
    the right guess from a wrong one)."""
    tails = [f"/{collection}/{i}" for collection, ids in (("enrollments", enrollment_ids), ("matches", match_ids))
             for i in ids]
    by_id = [clause for tail in tails for clause in (
        IdempotencyKey.path.like(f"%{tail}"), IdempotencyKey.path.like(f"%{tail}/%"),
        _like_any(IdempotencyKey.response_headers, [tail]))]  # a Location; told apart exactly below

    def names_them(stored: IdempotencyKey) -> bool:
        location = str((stored.response_headers or {}).get("Location") or "")
        return any(stored.path.endswith(t) or f"{t}/" in stored.path or location.endswith(t) for t in tails)

    for stored in db.session.scalars(sa.select(IdempotencyKey).where(sa.or_(
            _like_any(IdempotencyKey.response_body, needles), _like_any(IdempotencyKey.response_headers, needles),
            *by_id))):
        own = names_them(stored)
        answer = json.dumps([stored.response_body, stored.response_headers], ensure_ascii=False)
        if not own and not mentions(answer, needles):
            continue  # another enrollment's Location (/enrollments/12 for /enrollments/1)
        if stored.response_body is not None:
            stored.response_body = scrub(stored.response_body, needles,
                                         personal_keys=PERSONAL_KEYS if own else frozenset())
        stored.response_headers = scrub(stored.response_headers or {}, needles)
        stored.fingerprint = ERASED_FINGERPRINT
    db.session.flush()


def _delete_files_holding(needles: list[str]) -> int:
    """Delete uploads and exports (kept an hour at most) whose bytes contain a former value
    as written: an import still waiting on such a file then says it is gone, and is
    uploaded again."""
    wanted = [n.encode("utf-8") for n in needles if len(n) >= _MIN_CONTAINED]
    if not wanted:
        return 0
    dialect = db.session.get_bind().dialect.name
    found = "position(:n{i} IN data) > 0" if dialect == "postgresql" else "instr(data, :n{i}) > 0"
    clause = sa.text(" OR ".join(found.format(i=i) for i in range(len(wanted)))).bindparams(
        *(sa.bindparam(f"n{i}", value=v, type_=sa.LargeBinary) for i, v in enumerate(wanted)))
    deleted = db.session.execute(sa.delete(StoredFile).where(clause))
    return int(deleted.rowcount or 0)
