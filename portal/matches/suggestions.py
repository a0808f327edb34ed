"""Who could pair with a beneficiary (SPEC §2.8): a pure ranking of a campaign's active
volunteers by the campaign's effective ``matching`` configuration. No database here: the
views and tests hand in plain :class:`Person` records and the ``matching`` object.

Each rule applies where its setting exists, so the three masters (and templates derived
from them) rank by their own settings:

* every template: shared languages (``participant.languages``);
* mentorship (``matching.criteria``): shared skills, interests and industries where the
  enrollments' metadata records them (restricted to the criteria's lists when those are
  not empty), the criteria's preferred location against the volunteer's country;
* language practice (``matching.languagePairs``): a volunteer who speaks the pair's target
  language for a beneficiary who speaks its native one; native speakers when
  ``preferNativeSpeakers``; the CEFR gap (``maxProficiencyGap``) when both levels are known;
* buddy (``matching.weights``, ``location``, ``maxAgeDifference``): the four weights;
  different countries or an age gap above the maximum rule a volunteer out. The portal
  stores a country, not a city or region: ``same_city`` / ``same_region`` are checked as far
  as the country and the reason says so.

A volunteer without a free slot (``active_matches`` ≥ :func:`match_limit`) is never
suggested. Every suggestion carries the sentences that explain its score (``reasons``)
and what could not be checked (``notes``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.i18n import _, _l, ngettext
from portal.reference import country_name, language_name

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
DEFAULT_LIMIT = 1  # where a template has no matching.maxMenteesPerMentor (SPEC §2.8)
# The reasons and notes are sentences in the reader's language (made while a page is rendered).
LOCATION_RULE_WORDS = {"same_city": _l("the same city"), "same_region": _l("the same region"),
                       "same_country": _l("the same country"), "any": _l("anywhere")}


@dataclass(frozen=True)
class Person:
    """What ranking reads about one enrollment and its participant. ``profile`` is the
    enrollment's metadata: ``skills``, ``interests``, ``industry`` (lists), ``native_language``,
    ``cefr`` / ``starting_cefr`` where known."""

    enrollment_id: int
    label: str = ""
    languages: tuple[str, ...] = ()
    country: str | None = None
    year_of_birth: int | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    active_matches: int = 0  # volunteers: their active matches now


@dataclass(frozen=True)
class Suggestion:
    volunteer: Person
    score: float
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()
    free_slots: int = 0


def match_limit(matching: Mapping[str, Any] | None) -> int:
    """The effective ``matching.maxMenteesPerMentor``; 1 where the template has none."""
    value = (matching or {}).get("maxMenteesPerMentor")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else DEFAULT_LIMIT


def _names(codes: Iterable[str]) -> str:
    names = [language_name(c) for c in sorted(codes)]
    if len(names) == 1:
        return names[0]
    return _("%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])


def _words(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


def _text_list(profile: Mapping[str, Any], key: str) -> set[str]:
    value = profile.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return set()
    return {v.strip().lower() for v in value if isinstance(v, str) and v.strip()}


def _cefr(profile: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = profile.get(key)
        if isinstance(value, str) and value.upper() in CEFR_LEVELS:
            return CEFR_LEVELS.index(value.upper())
    return None


class _Score:
    def __init__(self) -> None:
        self.points = 0.0
        self.reasons: list[str] = []
        self.notes: list[str] = []
        self.excluded = False

    def add(self, points: float, reason: str) -> None:
        self.points += points
        self.reasons.append(reason)


def _shared_languages(beneficiary: Person, volunteer: Person) -> set[str]:
    return set(beneficiary.languages) & set(volunteer.languages)


def _score_mentorship(s: _Score, b: Person, v: Person, matching: Mapping[str, Any]) -> None:
    criteria = matching.get("criteria") if isinstance(matching.get("criteria"), Mapping) else {}
    shared = _shared_languages(b, v)
    wanted = {c for c in criteria.get("languages") or [] if isinstance(c, str)}
    if shared & wanted:
        asked = shared & wanted
        s.add(0.4, _("Both speak %(languages)s; the matching criteria ask for %(asked)s.", languages=_names(shared),
                     asked=_names(asked)))
    elif shared:
        s.add(0.3, _("Both speak %(languages)s.", languages=_names(shared)))
    for key in ("skills", "interests", "industry"):
        common = _text_list(b.profile, key) & _text_list(v.profile, key)
        focus = {str(x).strip().lower() for x in criteria.get(key) or [] if isinstance(x, str)}
        if focus:
            common &= focus
        if common:
            s.add(0.2, _shared(key, common))
    location = criteria.get("location")
    if isinstance(location, str) and location.strip():
        if v.country and location.strip().upper() == v.country:
            s.add(0.1, _("Based in %(country)s, the location the matching criteria prefer.",
                         country=country_name(v.country)))
        elif not v.country:
            s.notes.append(_("The volunteer's country is not recorded: the preferred location was not checked."))


def _shared(key: str, common: set[str]) -> str:
    """"Shared skills: python." (the values are the people's own words, shown as recorded)."""
    if key == "skills":
        return _("Shared skills: %(values)s.", values=_words(common))
    if key == "interests":
        return _("Shared interests: %(values)s.", values=_words(common))
    return _("Shared industries: %(values)s.", values=_words(common))


def _score_language(s: _Score, b: Person, v: Person, matching: Mapping[str, Any]) -> None:
    for pair in matching.get("languagePairs") or []:
        if not isinstance(pair, Mapping):
            continue
        native, target = pair.get("nativeLanguage"), pair.get("targetLanguage")
        if native in b.languages and target in v.languages:
            s.add(0.5, _("Speaks %(target)s, the language %(native)s speakers practise in this campaign "
                         "(%(native_code)s → %(target_code)s).", target=language_name(target),
                         native=language_name(native), native_code=native, target_code=target))
            if matching.get("preferNativeSpeakers") and v.profile.get("native_language") == target:
                s.add(0.2, _("A native %(language)s speaker, as the campaign prefers.",
                             language=language_name(target)))
            break
    shared = _shared_languages(b, v)
    if shared:
        s.add(0.2, _("Both speak %(languages)s, so they can explain things to each other.",
                     languages=_names(shared)))
    if matching.get("matchByProficiencyGap"):
        mine, theirs = _cefr(b.profile, "cefr", "starting_cefr"), _cefr(v.profile, "cefr")
        limit = matching.get("maxProficiencyGap")
        if mine is None or theirs is None:
            s.notes.append(_("CEFR levels are not recorded for both: the proficiency gap was not checked."))
        elif isinstance(limit, int) and abs(theirs - mine) <= limit:
            s.add(0.1, _("CEFR levels %(mine)s and %(theirs)s are within the allowed gap of %(gap)s.",
                         mine=CEFR_LEVELS[mine], theirs=CEFR_LEVELS[theirs], gap=limit))
        else:
            s.notes.append(_("CEFR levels %(mine)s and %(theirs)s are further apart than the allowed gap of %(gap)s.",
                             mine=CEFR_LEVELS[mine], theirs=CEFR_LEVELS[theirs], gap=limit))


def _score_buddy(s: _Score, b: Person, v: Person, matching: Mapping[str, Any]) -> None:
    weights = matching.get("weights") if isinstance(matching.get("weights"), Mapping) else {}

    def weight(key: str) -> float:
        value = weights.get(key, 0)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    rule = matching.get("location", "any")
    rule_words = str(LOCATION_RULE_WORDS.get(rule, rule))
    if rule == "any":
        s.add(weight("location"), _("Any location suits this campaign."))
    elif b.country and v.country:
        if b.country != v.country:
            s.excluded = True
            return
        if rule == "same_country":
            s.add(weight("location"), _("Both live in %(country)s.", country=country_name(v.country)))
        else:
            s.add(weight("location") / 2, _("Both live in %(country)s. The portal stores only the country, so "
                                            "%(rule)s (the campaign's rule) could not be checked: confirm it before "
                                            "proposing.", country=country_name(v.country), rule=rule_words))
    else:
        s.notes.append(_("A country is not recorded for both: the location rule (%(rule)s) was not checked.",
                         rule=rule_words))
    max_gap = matching.get("maxAgeDifference")
    if b.year_of_birth and v.year_of_birth:
        gap = abs(b.year_of_birth - v.year_of_birth)
        if isinstance(max_gap, int) and gap > max_gap:
            s.excluded = True
            return
        if isinstance(max_gap, int):
            s.add(weight("demographics"), ngettext("Born %(num)s year apart (at most %(max)s allowed).",
                                                   "Born %(num)s years apart (at most %(max)s allowed).", gap,
                                                   max=max_gap))
        else:
            s.add(weight("demographics"), ngettext("Born %(num)s year apart.", "Born %(num)s years apart.", gap))
    else:
        s.notes.append(_("A year of birth is not recorded for both: the age difference was not checked."))
    shared = _shared_languages(b, v)
    if shared:
        s.add(weight("language"), _("Both speak %(languages)s.", languages=_names(shared)))
    mine, theirs = _text_list(b.profile, "interests"), _text_list(v.profile, "interests")
    if mine & theirs:
        s.add(weight("interests") * len(mine & theirs) / len(mine | theirs), _shared("interests", mine & theirs))


def score_pair(beneficiary: Person, volunteer: Person, matching: Mapping[str, Any], *,
               current_year: int) -> Suggestion | None:
    """The volunteer's score for this beneficiary, or None when a rule rules them out.
    ``current_year`` is for rules that need an age (none yet: the buddy rule compares years of birth)."""
    s = _Score()
    if "weights" in matching or "maxAgeDifference" in matching:
        _score_buddy(s, beneficiary, volunteer, matching)
    elif "languagePairs" in matching:
        _score_language(s, beneficiary, volunteer, matching)
    else:
        _score_mentorship(s, beneficiary, volunteer, matching)
    if s.excluded:
        return None
    free = match_limit(matching) - volunteer.active_matches
    return Suggestion(volunteer, round(s.points, 4), tuple(s.reasons), tuple(s.notes), free)


def rank_volunteers(beneficiary: Person, volunteers: Sequence[Person], matching: Mapping[str, Any] | None, *,
                    current_year: int, limit: int | None = None) -> list[Suggestion]:
    """The volunteers with a free slot that no rule rules out, best first: highest score,
    then the lightest load, then the oldest enrollment (a stable order)."""
    matching = matching or {}
    cap = match_limit(matching)
    ranked = [s for v in volunteers if v.active_matches < cap
              if (s := score_pair(beneficiary, v, matching, current_year=current_year)) is not None]
    ranked.sort(key=lambda s: (-s.score, s.volunteer.active_matches, s.volunteer.enrollment_id))
    return ranked[:limit] if limit is not None else ranked
