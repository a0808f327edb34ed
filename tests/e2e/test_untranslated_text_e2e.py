"""No English a user reads escapes translation: every screen is read in the pseudo-locale
(``Accept-Language: qps-ploc``, testing only), where each translated string comes wrapped in
⟦ ⟧, and any visible text (or placeholder, title, aria-label, alt) left outside the markers
must be data people typed (names, the world's own words), a code or a figure.

The screens are the shared gate list (tests/e2e/screens.py) and the pages they link to, for
both roles, plus the sign-in page and the not-found page."""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from tests.e2e.screens import admin_screens, ensure_screens_world, pm_screens

PSEUDO = {"Accept-Language": "qps-ploc"}
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
WORDS = re.compile(r"[a-z]{2,}")  # a chunk with lower-case words is prose; codes are upper case (NOK, UTC, L2I)
EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+|/[\w./?=&%-]*")
# Links worth following from a screen: pages, not files, actions or the API.
SKIP_LINK = re.compile(r"\.(csv|pdf|json)\b|/api/|/export|/download|sign-out|/static/|/shared/|#")
MAX_PAGES = 90

TEXT = """() => {
  const out = [];
  const skip = 'script,style,template,noscript,code,pre,kbd,samp,[translate=no],[hidden]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  const attrs = [];
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label],[alt],input[type=submit][value]')) {
    if (el.closest(skip)) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      if (a === 'value' && el.type !== 'submit') continue;
      const v = el.getAttribute(a);
      if (v && v.trim()) attrs.push(v.trim());
    }
  }
  return {text: out.join('\\n'), attrs: attrs, title: document.title};
}"""


def _unmarked(text: str) -> list[str]:
    """The pieces of ``text`` outside every ⟦ ⟧ (markers nest: a translated sentence may hold
    a translated word)."""
    while True:
        stripped = MARKED.sub("\n", text)
        if stripped == text:
            break
        text = stripped
    return [piece.strip() for piece in text.split("\n") if piece.strip()]


# What Babel writes in English without a catalogue (the other languages get CLDR's words):
# chart days ("8 Sep") and report months ("August 2026").
BABEL_ENGLISH = re.compile(r"^(\d{1,2} [A-Z][a-z]{2}|(January|February|March|April|May|June|July|August|September|"
                           r"October|November|December) \d{4})$")


def _humanised(key: str) -> set[str]:
    """A configuration key as a screen shows it when the schema names it nowhere
    ("every_other_day" → "Every other day", "cefr_level_advanced" → "CEFR level advanced"):
    the template's own words, like its data."""
    from portal.configuration.labels import humanise

    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").strip()
    return {words, words.capitalize(), words.title(), humanise(key)}


def _data_values(app) -> list[str]:
    """Every string the world's people typed or the seed wrote: table columns and the
    strings inside JSON documents (template schemas, configurations, keys made readable),
    and country and language names (English from pycountry here; CLDR's in nb and uk)."""
    import pycountry

    from portal.db import db

    values: set[str] = {getattr(c, "common_name", c.name) for c in pycountry.countries}
    values |= {name for lang in pycountry.languages if hasattr(lang, "alpha_2")
               for name in (lang.name, lang.name.split(" (")[0])}  # the filters drop "(macrolanguage)"

    def leaves(value) -> Iterable[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from leaves(v)
        elif isinstance(value, list):
            for v in value:
                yield from leaves(v)

    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, sa.String | sa.Text):
                    rows = db.session.execute(sa.select(column).distinct().limit(5000)).scalars()
                    values.update(v for v in rows if isinstance(v, str) and len(v) > 1)
                elif isinstance(column.type, sa.JSON) or column.type.__class__.__name__ == "JSONDocument":
                    for doc in db.session.execute(sa.select(column).limit(2000)).scalars():
                        for v in leaves(doc):
                            if len(v) > 1:
                                values.add(v)
                                values |= _humanised(v)
        db.session.remove()
    return sorted(values, key=len, reverse=True)


def _english_left(piece: str, data: list[str]) -> str | None:
    if BABEL_ENGLISH.match(piece):
        return None
    rest = piece
    for value in data:
        if value in rest:
            rest = rest.replace(value, " ")
    rest = EMAIL_OR_URL.sub(" ", rest)
    return piece if WORDS.search(rest) else None


def _scan(page: Page, paths: list[str], data: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    seen: set[str] = set()
    queue = list(dict.fromkeys(paths))
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None and response.status in (200, 404), f"{path}: {response and response.status}"
        got = page.evaluate(TEXT)
        pieces = _unmarked(got["text"]) + [p for a in got["attrs"] for p in _unmarked(a)] + _unmarked(got["title"])
        english = sorted({e for p in pieces if (e := _english_left(p, data))})
        if english:
            found[path] = english
        if path in paths:  # follow the links of the listed screens, one step
            for href in page.eval_on_selector_all("main a[href^='/']", "els => els.map(e => e.getAttribute('href'))"):
                target = urlsplit(href).path
                if target and not SKIP_LINK.search(href) and target not in seen:
                    queue.append(target)
    return found


@pytest.fixture(scope="module")
def world(live_server):
    return ensure_screens_world(live_server)


def _report(found: dict[str, list[str]]) -> str:
    lines = [f"{path}: {' | '.join(texts[:8])}" for path, texts in sorted(found.items())]
    return f"English outside a translation call on {len(found)} pages:\n" + "\n".join(lines)


@pytest.mark.parametrize("role", ["pm", "admin"])
def test_every_screen_reads_only_translated_text(page: Page, sign_in, accounts, world, live_server, role):
    sign_in(page, accounts.pm.email if role == "pm" else accounts.admin.email)
    paths = pm_screens(page, world) if role == "pm" else admin_screens(page, world)
    page.set_extra_http_headers(PSEUDO)
    found = _scan(page, paths, _data_values(live_server.app))
    assert not found, _report(found)


def test_the_sign_in_and_not_found_pages_read_only_translated_text(page: Page, live_server):
    page.set_extra_http_headers(PSEUDO)
    found = _scan(page, ["/sign-in", "/no-such-page"], _data_values(live_server.app))
    assert not found, _report(found)
