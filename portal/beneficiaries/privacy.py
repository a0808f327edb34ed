"""Privacy rules for beneficiary groups (SPEC §2.2): a group is a population, never a
person, so its name, description and tags must not carry personal data. Pure
functions; the group operations call them on save and the form calls them live.

The rules run in time linear in the text: the length is checked before any pattern,
and the patterns run on RE2 (no backtracking). RE2's ``\\d``, ``\\s`` and ``\\b`` are
ASCII-only, so the text is first folded: every Unicode decimal digit becomes its ASCII
digit and every Unicode space a plain space (one character for one, so nothing moves)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import re2

from portal.i18n import _l, _n, gettext, number

# SPEC §2.1/§2.2 limits of the texts these rules read; longer text is refused unread.
MAX_NAME_LENGTH, MAX_DESCRIPTION_LENGTH, MAX_TAG_LENGTH = 255, 5000, 50
MAX_CHECKED_LENGTH = MAX_DESCRIPTION_LENGTH

def _compile(pattern: str, *, ignore_case: bool = False) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    return re2.compile(pattern, options)


@dataclass(frozen=True)
class PrivacyRule:
    kind: str
    pattern: Any  # a compiled RE2 pattern
    message: str  # a lazy string: the reader's language where it is shown


_WORD = r"[\pL\pN_]"  # what Python's Unicode \w matches (letters, numbers, underscore)
_DIGIT_SEP = r"[\s.\-/()]"
RULES = [
    PrivacyRule("email", _compile(rf"[\pL\pN_.+-]+@(?:{_WORD}|-)+(?:\.(?:{_WORD}|-)+)+"),
                _l("Remove the e-mail address: groups describe populations, not people.")),
    # A run of 9+ digits not touching another digit, "." or "," (RE2 has no lookarounds, so the
    # neighbours are matched: only whether a match exists matters here).
    PrivacyRule("national_id", _compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{6}[\s-]?\d{5}\b|(?:^|[^\d.,])\d{9,}(?:$|[^\d.,])"),
                _l("Remove the identity-number-like digits: no national id or personal number may appear here.")),
    PrivacyRule("date_of_birth", _compile(
        r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})\b"
        r"|\b\d{1,2}\.?\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s(?:19|20)\d{2}\b",
        ignore_case=True),
        _l("Remove the full date: it could be someone's date of birth. Use a year or a month instead.")),
    PrivacyRule("phone", _compile(rf"(?:\+|\b00)\d(?:{_DIGIT_SEP}?\d){{6,}}|\b\d{{2,4}}(?:{_DIGIT_SEP}{{1,2}}\d{{2,4}}){{2,4}}\b"),
                _l("Remove the phone number: groups describe populations, not people.")),
]


def _fold(text: str) -> str:
    """Unicode digits → ASCII digits, Unicode spaces → " " (same length)."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else " " if ch.isspace() else ch for ch in text)


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def too_long_message(max_length: int) -> str:
    return _n("Too long to check for personal data: use at most %(count)s character.",
              "Too long to check for personal data: use at most %(count)s characters.", max_length,
              count=number(max_length))


def privacy_problems(text: str | None, *, max_length: int = MAX_CHECKED_LENGTH) -> list[str]:
    """Messages for every kind of personal data found in ``text`` (empty when clean).
    Ordinary numbers ("2026 cohort", "ages 18-30", "B1 level") pass. Text longer than
    ``max_length`` is refused before any pattern reads it."""
    if not text:
        return []
    if len(text) > max_length:
        return [too_long_message(max_length)]
    folded = _fold(text)
    found: list[str] = []
    for rule in RULES:
        for match in rule.pattern.finditer(folded):
            # A phone needs at least 8 digits: "18 - 30" or "2025/26" are not phone numbers.
            if rule.kind == "phone" and _digit_count(match.group()) < 8:
                continue
            found.append(rule.message)
            break
    return found


# --- personal names: a warning, not a refusal ---------------------------------------------
# A name cannot be told from an organisation or a place by its shape alone ("Maria Hansen",
# "Red Cross", "Oslo Municipality" are all two capitalised words), so this is a warning the
# author reads and decides on, never a refusal. It fires on two neighbouring words (only
# spaces between them) that look like a person: a known given name followed by a surname or an
# initial ("Maria Hansen", "Olena K."), any name-shaped word followed by an initial ("Olena K."),
# a name-shaped word followed by a surname-shaped one ("Lars Kristiansen", "O. Kovalenko"), or a
# title ("Mr Hansen"). Words that make the pair a place, an organisation or a group
# ("Municipality", "Cross", "Refugees", "Group A.") keep it quiet.
_NAME_TOKEN = _compile(r"[\pL\pM]+(?:['’-][\pL\pM]+)*\.?")
GIVEN_NAMES = frozenset("""
olena oksana olha olga iryna irina tetiana tetyana natalia nataliya natalie svitlana yulia yuliia kateryna
anastasia viktoria victoria halyna hanna anna mariia maria marija mariya daria darya sofia sophia sofiia
alina yana inna larysa liudmyla lyudmila nadia nadiya vira valentyna ivan ivanna oleksandr oleksandra
olexandr alexander aleksandr andrii andriy andrey dmytro dmitri dmitry serhii sergey sergii mykola nikolai
volodymyr vladimir yurii yuri petro taras bohdan vasyl oleh oleg maksym maxim artem roman pavlo pavel
vitalii viktor ihor igor denys mykhailo mikhail yevhen yevgeny anton kyrylo kirill
ola kari nora emma ingrid sigrid astrid liv solveig randi marit kristin kirsten hilde ragnhild silje ida
thea tuva maja maia frida linnea ella ole lars per jan nils knut bjorn bjørn arne erik eirik hans kjell odd
svein terje geir trond rune magnus henrik jonas sander mathias martin kristian kristoffer håkon haakon
sindre eivind espen anders morten stian tor tore torbjørn sven gunnar leif harald sigurd einar
ursula heidi ruth greta gretchen lukas luca lena leonie lea laura jana hannah johanna katharina
sabine petra claudia andrea stefanie simone monika barbara susanne beat urs reto jürg jurg thomas
michael daniel stefan markus peter andreas christian tobias florian matthias patrick marco
john james robert david william richard joseph charles mary patricia jennifer linda elizabeth susan
jessica sarah karen emily olivia amelia isabella charlotte george oliver harry jack jacob noah
liam ethan mason lucas logan henry samuel benjamin alexandra kate helen grace alice lucy chloe
mohammed muhammad mohamed mohammad ahmed ahmad ali omar hassan hussein hussain khalid yusuf yousef
youssef ibrahim ismail mustafa abdullah abdul karim kareem tariq bilal hamza samir amir fatima fatma
aisha aysha aisa khadija mariam maryam zainab zeinab layla leila noor nour amina amal huda rania
salma yasmin yasmina hiba samira sara farah dina hala reem rima nadia jamal walid rami rashid
ahmadi farid farhad reza mehdi hamid zahra parisa shirin soraya nasrin roya mina
abdi abdirahman abdullahi hodan hawa halima ifrah idil ayaan faduma sahra warsame
tesfaye mehari yonas yohannes senait helen selam mulu
piotr pawel paweł tomasz krzysztof marek agnieszka katarzyna malgorzata małgorzata joanna ewa
magdalena dorota zofia jakub kacper
jose josé juan carlos luis miguel pedro javier sergio ana carmen lucia lucía elena rosa isabel
giulia francesca giovanni giuseppe antonio francesco alessandro
""".split())
SURNAME_ENDINGS = ("sen", "son", "enko", "chuk", "czuk", "iuk", "yuk", "ova", "eva", "ski", "ska", "sky", "vich",
                   "wicz", "dottir", "dóttir", "poulos", "escu", "ović", "ovic", "evic", "ević", "stad", "rud")
TITLES = frozenset("mr mrs ms miss dr prof herr frau fru sr sra".split())
# After a name-shaped word these make a place, an organisation or a group, not a surname.
NOT_SURNAMES = frozenset("""
municipality kommune county fylke region city town village district province state canton kanton gemeinde
refugees refugee newcomers migrants women men youth children kids families students seniors elders
centre center university college school academy institute foundation association society church mosque
hospital clinic council office agency ministry cross crescent street road avenue station airport hall
house library project program programme group team network club union fund trust camp shelter community
initiative hub campus cohort partners services service aid relief care
essen moldova alaska nebraska hudson madison jackson wisconsin
""".split())
# Before an initial these are labels ("Group A.", "Level B.", "Plan B."), not given names.
NOT_GIVEN_NAMES = frozenset("""
group cohort level plan type class section team phase part grade vitamin annex appendix block building
room zone track stage step option category unit wing floor gate hall module tier batch round form list
line route bus platform schedule sector area site camp ward figure table page chapter item exhibit
""".split())


def _name_shaped(word: str) -> bool:
    """Capitalised and otherwise lower case ("Olena", "Jean-Luc", "O'Neill"): not "NGO", not "iPhone"."""
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and letters[0].isupper() and not any(ch.isupper() for ch in letters[1:2]) \
        and not word.isupper()


def _is_initial(word: str) -> bool:
    return len(word) == 2 and word[0].isalpha() and word[0].isupper() and word[1] == "."


def _looks_like_surname(word: str) -> bool:
    bare = word.rstrip(".")
    return (_name_shaped(bare) and len(bare) >= 5 and bare.lower() not in NOT_SURNAMES
            and bare.lower().endswith(SURNAME_ENDINGS))


def _person_pair(first: str, second: str) -> bool:
    bare_first, bare_second = first.rstrip("."), second.rstrip(".")
    if bare_first.lower() in TITLES and _name_shaped(bare_second) and bare_second.lower() not in NOT_SURNAMES:
        return True  # "Mr Hansen", "Dr. Petrenko"
    if first.endswith(".") and not _is_initial(first):
        return False  # a sentence ends between them
    if _is_initial(second):  # "Olena K."
        return _name_shaped(bare_first) and bare_first.lower() not in NOT_GIVEN_NAMES
    if _is_initial(first):  # "O. Kovalenko"
        return _looks_like_surname(second)
    if not (_name_shaped(bare_first) and _name_shaped(bare_second)) or bare_second.lower() in NOT_SURNAMES:
        return False
    return bare_first.lower() in GIVEN_NAMES or _looks_like_surname(second)  # "Maria Hansen", "Lars Kristiansen"


def personal_names(text: str | None, *, max_length: int = MAX_CHECKED_LENGTH) -> list[str]:
    """The phrases in ``text`` that look like a person's name ("Olena K.", "Maria Hansen"), in
    order, each once. Two words count as neighbours only when spaces alone separate them."""
    if not text or len(text) > max_length:
        return []
    tokens = [(m.start(), m.end(), m.group()) for m in _NAME_TOKEN.finditer(text)]
    found: list[str] = []
    for (_, end, first), (start, _, second) in zip(tokens, tokens[1:], strict=False):
        gap = text[end:start]
        if gap and not gap.strip(" \t\u00a0") and _person_pair(first, second):
            phrase = f"{first} {second}".rstrip(".") if not _is_initial(second) else f"{first} {second}"
            if phrase not in found:
                found.append(phrase)
    return found


def personal_name_warnings(text: str | None, *, max_length: int = MAX_CHECKED_LENGTH) -> list[str]:
    """The warning for ``text`` when it looks like it names a person (empty when it does not).
    A warning, not a refusal: "Red Cross" and a person look alike, so the author decides."""
    names = personal_names(text, max_length=max_length)
    if not names:
        return []
    quoted = ", ".join(gettext("“%(name)s”", name=n) for n in names[:3]) + (" …" if len(names) > 3 else "")
    return [_n("%(names)s looks like a person's name. A group describes a population, never a person: remove the "
               "name unless it is an organisation or a place.",
               "%(names)s look like people's names. A group describes a population, never a person: remove the "
               "names unless they are organisations or places.", len(names), names=quoted)]


def cohort_figure(count: int | None, min_cohort: int) -> str:
    """An aggregate about a group, shown only for cohorts of at least ``min_cohort``
    (PORTAL_MIN_COHORT); smaller counts read "fewer than N" (zero included, so a
    zero cannot be told apart from a small group)."""
    if count is None or count < min_cohort:
        return gettext("fewer than %(num)s", num=number(min_cohort))
    return number(count)
