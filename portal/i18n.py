"""The portal's languages: English, Norwegian Bokmål and Ukrainian (Flask-Babel, gettext
catalogues in ``portal/translations/``).

Which language a request gets: the API (``/api/``) follows ``Accept-Language``; a screen
follows the signed-in user's own choice (``User.locale``, set from the page header), then the
choice made on the sign-in page (kept in the session), then ``Accept-Language``, then English.

Rules and domain errors keep their words in one place and are translated where they are shown:
a domain message is a lazy string (``_l``) that becomes text in the language of whoever reads
it. A job runs in the language of the person who started it (``force_locale``).

Numbers, dates, money and percentages shown on screens go through the helpers below (the
``number``, ``date``, ``datetime``, ``money`` and ``percent`` filters); CSV files keep machine
formats (ISO dates, ``.`` decimals) whatever the language. English keeps ISO dates
(``2026-11-30``: an English without a region has no unambiguous order) and "NOK 1,234.50".

``PORTAL_PSEUDO_LOCALE`` (tests only) lets a request with ``Accept-Language: qps-ploc`` read
every translated string wrapped in ⟦ ⟧, so a page scan can flag visible English that never
went through a translation call."""
from __future__ import annotations

import os
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel import numbers as babel_numbers
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, Domain, _get_current_context, force_locale, get_locale
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

__all__ = [
    "LANGUAGES", "LazyText", "_", "_l", "_lp", "_n", "force_locale", "pgettext", "gettext", "lazy_gettext", "lazy_ngettext", "ngettext",
    "current_language", "init_app", "money", "number", "percent", "show_date", "show_datetime",
]

def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's ``gettext`` (``%(name)s`` placeholders filled from ``variables``), through
    the request's cached catalogue (:func:`_catalogue`)."""
    text = _catalogue().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ``ngettext``: ``%(num)s`` is the count unless given."""
    variables.setdefault("num", num)
    return _catalogue().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    """Flask-Babel's ``pgettext``: a string whose translation depends on ``context``."""
    text = _catalogue().upgettext(context, string)
    return text % variables if variables else text


_ = gettext


class LazyText(LazyString):
    """A translation made when shown. Flask-Babel's lazy string tells Jinja and markupsafe it
    is already HTML (its ``__html__`` returns the text as is), so a lazy message carrying a
    name someone typed would reach the page unescaped: this one escapes itself."""

    def __html__(self) -> Markup:
        return escape(str(self))

    # Never a set member or dict key built at import: its hash is taken then, in English, and
    # the same words in the reader's language would not be found later. Compare in a tuple.


def _l(string: str, **variables: Any) -> LazyText:
    """``gettext`` when the text is shown: for module-level labels and domain messages."""
    return LazyText(gettext, string, **variables)


def _n(singular: str, plural: str, num: int, **variables: Any) -> LazyText:
    """``ngettext`` when the text is shown (``%(num)s`` is the count unless given)."""
    return LazyText(ngettext, singular, plural, num, **variables)


def _lp(context: str, string: str, **variables: Any) -> LazyText:
    """``pgettext`` when shown: one English word that other languages say two ways
    (``_lp("person", "Name")`` is a person's name, "Ім'я", where a thing's is "Назва")."""
    return LazyText(pgettext, context, string, **variables)


lazy_gettext, lazy_ngettext = _l, _n

# The languages the portal speaks, each named in its own language (what the header's switch lists).
LANGUAGES: dict[str, str] = {"en": "English", "nb": "Norsk bokmål", "uk": "Українська"}
DEFAULT_LANGUAGE = "en"
# Browsers on Norwegian systems often send "no" or "nn" alone: Bokmål is the written standard
# most people read, so both get it.
_ALIASES = {"no": "nb", "nn": "nb"}
SESSION_KEY = "locale"

PSEUDO_OPEN, PSEUDO_CLOSE = "⟦", "⟧"


def language_from_header() -> str:
    """The best of LANGUAGES for the request's ``Accept-Language`` (English when none fits)."""
    for value, _quality in request.accept_languages:
        primary = value.replace("_", "-").split("-")[0].lower()
        primary = _ALIASES.get(primary, primary)
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def select_language() -> str:
    """The request's language (see the module's docstring)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if request.path.startswith("/api/"):
        return language_from_header()
    from flask_login import current_user

    chosen = getattr(current_user, "locale", None) if current_user.is_authenticated else None
    chosen = chosen or session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return language_from_header()


def current_language() -> str:
    """The request's language code ("en", "nb", "uk"): read off the request's locale object,
    not written out again by Babel each time (a page asks a dozen times)."""
    locale = _locale()
    return locale.language if not (locale.territory or locale.script or locale.variant) else str(locale)


def catalogue_key() -> str:
    """Which words a rendering uses: the language, or the pseudo-locale (tests): what a cache of
    rendered HTML must be keyed by."""
    return PSEUDO_LANGUAGE if _pseudo_requested() else current_language()


class _PseudoTranslations(NullTranslations):
    """English, each string wrapped in ⟦ ⟧: what the untranslated-text scan looks for."""

    def ugettext(self, message: str) -> str:
        return f"{PSEUDO_OPEN}{message}{PSEUDO_CLOSE}"

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return f"{PSEUDO_OPEN}{singular if n == 1 else plural}{PSEUDO_CLOSE}"

    def upgettext(self, context: str, message: str) -> str:
        return self.ugettext(message)

    def unpgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.ungettext(singular, plural, n)

    gettext, ngettext, pgettext, npgettext = ugettext, ungettext, upgettext, unpgettext


PSEUDO_LANGUAGE = "qps-ploc"  # the conventional pseudo-locale tag


def _pseudo_requested() -> bool:
    """Only where the configuration allows it (tests), a request whose Accept-Language starts
    with qps-ploc reads English with every translated string marked."""
    if not (has_request_context() and current_app.config.get("PORTAL_PSEUDO_LOCALE")):
        return False
    first = next(iter(request.accept_languages.values()), "")
    return first.lower() == PSEUDO_LANGUAGE


class _PortalDomain(Domain):
    def get_translations(self):  # noqa: ANN201
        """The catalogue for the context's locale, looked up once per request (a page calls
        gettext hundreds of times; Flask-Babel's lookup reads several context locals each
        time). The locale object is the key: ``force_locale`` replaces it, so a job or a
        message in another language looks its catalogue up again."""
        context = _get_current_context()
        if context is None:
            return super().get_translations()
        locale = get_locale()
        cached = getattr(context, "portal_translations", None)
        if cached is not None and cached[0] is locale:
            return cached[1]
        translations = _PseudoTranslations() if _pseudo_requested() else super().get_translations()
        context.portal_translations = (locale, translations)
        return translations


babel = Babel()
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


_UNTRANSLATED = NullTranslations()


def _catalogue() -> NullTranslations:
    """The request's catalogue, straight from the per-request cache of
    :meth:`_PortalDomain.get_translations` when the locale is still the one it was made for
    (Flask-Babel's own path reads the context's locals three times a string, which cost a
    page hundreds of microseconds)."""
    try:
        namespace = g._get_current_object()
    except RuntimeError:  # no application context: English, as Flask-Babel does there
        return _UNTRANSLATED
    context = getattr(namespace, "_flask_babel", None)
    cached = getattr(context, "portal_translations", None)
    if cached is not None and cached[0] is getattr(context, "babel_locale", None):
        return cached[1]
    return babel.domain_instance.get_translations()


# Values whose text holds nothing to escape, passed as they are (so "%(n)d" still formats them).
_PLAIN = (int, float, bool)


def _filled(text: str, variables: dict[str, Any]) -> Markup:
    """``Markup(text) % variables`` as Jinja's autoescaping gettext does it (the trusted
    translation filled with escaped values), without markupsafe's wrapper around every value:
    a page fills a hundred sentences, and that wrapper took most of their time. A format it
    cannot fill this way (a number format of a value that is not a number) takes markupsafe's."""
    if ")r" in text or ")a" in text:  # a repr() of a value: markupsafe escapes the repr
        return Markup(text) % variables
    try:
        return Markup(text % {key: value if type(value) in _PLAIN else escape(value)
                              for key, value in variables.items()})
    except (TypeError, ValueError):
        return Markup(text) % variables


def _translated(context: Context, text: str, variables: dict[str, Any]) -> str:
    # Always a format string, as Jinja's newstyle gettext has it ("%%" is a percent sign).
    return _filled(text, variables) if context.eval_ctx.autoescape else text % variables


@pass_context
def _jinja_gettext(context: Context, string: str, /, **variables: Any) -> str:
    return _translated(context, _catalogue().ugettext(string), variables)


@pass_context
def _jinja_ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _translated(context, _catalogue().ungettext(singular, plural, num), variables)


@pass_context
def _jinja_pgettext(context: Context, string_context: str, string: str, /, **variables: Any) -> str:
    variables.setdefault("context", string_context)
    return _translated(context, _catalogue().upgettext(string_context, string), variables)


@pass_context
def _jinja_npgettext(context: Context, string_context: str, singular: str, plural: str, num: int, /,
                     **variables: Any) -> str:
    variables.setdefault("context", string_context)
    variables.setdefault("num", num)
    return _translated(context, _catalogue().unpgettext(string_context, singular, plural, num), variables)


def _write_whole(target: Path, write) -> None:  # noqa: ANN001
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    with partial.open("wb") as f:
        write(f)
    os.replace(partial, target)


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile each ``messages.po`` into the ``messages.mo`` the app reads, when the ``.po``
    is not the one the ``.mo`` was made from (its size and modification time, noted beside
    the ``.mo`` as taken before reading, so a catalogue rewritten while it was read is
    compiled again next time). Fuzzy entries are left out; files are written whole, then
    renamed into place, so processes starting together never read half a file. Returns the
    files compiled."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo, stamp = po.with_suffix(".mo"), po.with_suffix(".mo.source")
        source = po.stat()
        made_from = f"{source.st_size} {source.st_mtime_ns}"
        if mo.exists() and stamp.exists() and stamp.read_text() == made_from:
            continue
        with po.open("rb") as text:
            catalog = read_po(text, locale=po.parent.parent.name)
        try:
            _write_whole(mo, lambda f, catalog=catalog: write_mo(f, catalog, use_fuzzy=False))
            _write_whole(stamp, lambda f, made_from=made_from: f.write(made_from.encode()))
        except OSError:  # a read-only install: the catalogues were compiled when it was built
            continue
        compiled.append(mo)
    return compiled


class _FormMessages:
    """WTForms' own messages ("This field is required.") in the request's language. Flask-WTF
    reads its catalogue from disk again on every request that builds a form (0.15–0.2 ms);
    this reads each language's once, and only when a message is shown."""

    def ugettext(self, string: str) -> str:
        return _form_catalogue(current_language()).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _form_catalogue(current_language()).ungettext(singular, plural, n)


@lru_cache(maxsize=8)
def _form_catalogue(language: str) -> NullTranslations:
    from babel.support import Translations
    from wtforms.i18n import messages_path

    return Translations.load(messages_path(), [language], domain="wtforms")


_FORM_MESSAGES = _FormMessages()


def init_app(app: Flask) -> None:
    directory = str(TRANSLATIONS)
    compile_catalogs()
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", directory)
    babel.init_app(app, locale_selector=select_language, default_locale=DEFAULT_LANGUAGE)
    babel.domain_instance = _PortalDomain(translation_directories=[directory])
    env = app.jinja_env
    # Templates translate through the cached catalogue with Jinja's newstyle semantics
    # (Flask-Babel installs the same four callables on its own, slower path; Jinja's own
    # newstyle wrappers are replaced by the ones above, which fill values faster).
    env.install_gettext_callables(gettext=_jinja_gettext, ngettext=_jinja_ngettext, newstyle=True,
                                  pgettext=_jinja_pgettext, npgettext=_jinja_npgettext)
    env.globals.update(gettext=_jinja_gettext, ngettext=_jinja_ngettext, pgettext=_jinja_pgettext,
                       npgettext=_jinja_npgettext)
    env.filters.update(number=number, money=money, percent=percent, date=show_date, datetime=show_datetime)
    env.globals.update(current_language=current_language, LANGUAGES=LANGUAGES)

    @app.before_request
    def _form_messages() -> None:
        request.wtforms_translations = _FORM_MESSAGES  # where Flask-WTF looks first


# --- formats -----------------------------------------------------------------------------------
def _locale() -> Locale:
    """The request's locale object (Flask-Babel keeps it for the request; parsing the code
    again for each figure cost a report page tens of milliseconds)."""
    try:
        locale = getattr(getattr(g._get_current_object(), "_flask_babel", None), "babel_locale", None)
    except RuntimeError:  # no application context
        locale = None
    return locale or get_locale() or _parsed(DEFAULT_LANGUAGE)


@lru_cache(maxsize=8)
def _parsed(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=64)
def _pattern(text: str) -> babel_numbers.NumberPattern:
    return babel_numbers.parse_pattern(text)


def _english_digits(value: int | Decimal, least: int, most: int) -> str | None:
    """What Babel writes in English for the pattern "#,##0" with ``least`` to ``most``
    decimals (half-even rounding, thousands grouped by ","), made with Python's own number
    formatting: Babel takes 40–80 µs a figure, and a company report shows thousands of them
    (tests/unit/test_i18n_formats.py holds the two to the same output). None: let Babel do it."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    try:
        exact = Decimal(value)
        if not exact.is_finite():
            return None
        rounded = exact.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return None
    text = f"{abs(rounded):,.{most}f}"
    if most > least:
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(least, "0")
        text = whole + ("." + fraction if fraction else "")
    return ("-" if rounded.is_signed() else "") + text


def number(value: int | float | Decimal | None, places: int | None = None) -> str:
    """1204 → "1,204" (en), "1 204" (nb, uk); ``places`` fixes the decimals shown."""
    if value is None:
        return "—"
    locale = _locale()
    if locale.language == "en" and (fast := _english_digits(value, places or 0, 3 if places is None else places)):
        return fast
    pattern = None if places is None else _pattern("#,##0" + ("." + "0" * places if places else ""))
    return babel_numbers.format_decimal(value, format=pattern, locale=locale)


def money(amount_minor: Decimal | int | None, currency: str) -> str:
    """Minor units as money, rounded half up to the minor unit: "NOK 1,234.57" (en),
    "1 234,57 kr" (nb), "1 234,57 NOK" (uk); a negative amount keeps its minus sign."""
    if amount_minor is None:
        return "—"
    minor = Decimal(amount_minor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    amount = minor / 100
    locale = _locale()
    if locale.language == "en":
        text = _english_digits(abs(amount), 2, 2) or babel_numbers.format_decimal(
            abs(amount), format=_pattern("#,##0.00"), locale=locale)
        return f"{'−' if amount < 0 else ''}{currency} {text}"
    return babel_numbers.format_currency(amount, currency, locale=locale)


def percent(value: Decimal | float | int | None, places: int = 2) -> str:
    """A percentage given in percent (25.5 → "25.5 %" in en, "25,5 %" in nb, "25,5%" in uk),
    with up to ``places`` decimals."""
    if value is None:
        return "—"
    locale = _locale()
    digits = "#,##0" + ("." + "#" * places if places else "")
    pattern = locale.percent_formats[None].pattern.replace("#,##0", digits, 1)
    if locale.language == "en":
        fast = _english_digits(value if isinstance(value, int) else Decimal(str(value)), 0, places)
        return f"{fast}\u00a0%" if fast else babel_numbers.format_percent(
            Decimal(str(value)) / 100, format=_pattern(digits + "\u00a0%"), locale=locale)
    return babel_numbers.format_percent(Decimal(str(value)) / 100, format=_pattern(pattern), locale=locale)


def show_date(value: date | None) -> str:
    """A date to read: "2026-11-30" (en), "30. nov. 2026" (nb), "30 лист. 2026 р." (uk)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    if current_language() == "en":
        return value.isoformat()
    from babel.dates import format_date

    return format_date(value, "medium", locale=_locale())


def show_datetime(value: datetime | None) -> str:
    """A moment in UTC: "2026-11-30 19:05 UTC" (en), "30. nov. 2026 19:05 UTC" (nb)."""
    if value is None:
        return "—"
    return f"{show_date(value)} {value.strftime('%H:%M')} UTC"


def parse_local_date(text: str) -> date | None:
    """A typed date: ISO (2026-11-30) always, or the language's short order (30.11.2026 in nb
    and uk); None when it is neither."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    from babel.dates import parse_date

    if current_language() == "en":
        return None
    try:
        return parse_date(text, locale=_locale())
    except (ValueError, IndexError):
        return None


def language_choices() -> list[tuple[str, str]]:
    return list(LANGUAGES.items())


def translated(labels: dict[str, Any] | None, key: str, fallback: str) -> str:
    """A label from a schema's ``x-i18n`` block ({"nb": {"title": …}}) for the current
    language, else ``fallback`` (the schema's own text)."""
    if labels:
        value = (labels.get(current_language()) or {}).get(key)
        if isinstance(value, str) and value.strip():
            return value
    return fallback
