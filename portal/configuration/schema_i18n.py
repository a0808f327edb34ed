"""Translations a template carries for its own words (issue #19): a schema node, a ui_schema
node or an ``x-rules`` entry may hold an ``"x-i18n"`` block::

    "x-i18n": {"nb": {"title": "Økter", "description": "…", "enumNames": {"weekly": "Ukentlig"},
                      "keyLabels": {"session_completed": "Økt fullført"}},
               "uk": {"title": "Заняття", …}}

``title`` and ``description`` translate the node's own label and help text, ``enumNames`` the
labels of its enum options (by value), ``keyLabels`` the names of a map's entries (by key); a
rule's block holds its ``message``. English is the schema's own text: a language or a word
without a translation falls back to it. The shape is strict (only ``nb`` and ``uk``, only
these keys, bounded text): :func:`i18n_problems` is part of the schema check on save and publish.
Pure functions; the language is the request's (:func:`portal.i18n.current_language`)."""
from __future__ import annotations

from typing import Any

from portal.configuration.paths import ConfigError
from portal.i18n import _l, current_language, translated

I18N_KEY = "x-i18n"
I18N_LANGUAGES = ("nb", "uk")
MAX_TEXT = {"title": 255, "description": 2000, "message": 1000}
MAP_KEYS = ("enumNames", "keyLabels")
MAX_MAP_ENTRIES = 500
MAX_MAP_KEY = 255
MAX_MAP_LABEL = 255
NODE_KEYS = ("title", "description", *MAP_KEYS)  # a schema or ui_schema node
RULE_KEYS = ("message",)  # an x-rules entry


def _block(node: Any) -> dict[str, Any] | None:
    """The node's whole x-i18n block (None when it has none, or one of the wrong shape)."""
    block = node.get(I18N_KEY) if isinstance(node, dict) else None
    return block if isinstance(block, dict) else None


def _language_block(node: Any) -> dict[str, Any]:
    block = _block(node)
    entry = block.get(current_language()) if block else None
    return entry if isinstance(entry, dict) else {}


def localized(node: Any, key: str, fallback: Any = None) -> Any:
    """``node``'s translation of ``key`` (title, description, message) for the reader's
    language, else ``fallback`` (the schema's own text)."""
    block = _block(node)
    if not block or not isinstance(block.get(current_language()), dict):
        return fallback
    return translated(block, key, fallback)


def localized_entry(node: Any, key: str, name: Any) -> str | None:
    """The translated label of one enum option or map entry (``key`` is "enumNames" or
    "keyLabels"), or None when the node has none for the reader's language."""
    names = _language_block(node).get(key)
    text = names.get(str(name)) if isinstance(names, dict) else None
    return text if isinstance(text, str) and text.strip() else None


def first_localized(nodes: tuple[Any, ...], key: str) -> str | None:
    """The first of ``nodes`` (e.g. the ui_schema node, then the schema node) with a
    translation of ``key``."""
    for node in nodes:
        text = localized(node, key)
        if isinstance(text, str) and text.strip():
            return text
    return None


# --------------------------------------------------------------------------- the shape check


def i18n_problems(block: Any, path: str, allowed: tuple[str, ...] = NODE_KEYS) -> list[ConfigError]:
    """What is wrong with one x-i18n ``block`` found at ``path`` (its node's path): an object
    of ``nb``/``uk`` objects holding only the ``allowed`` keys, texts as non-blank strings of
    bounded length, enumNames/keyLabels as objects of such strings."""
    where = f"{path}.{I18N_KEY}" if path else I18N_KEY
    if not isinstance(block, dict):
        return [ConfigError(where, _l("x-i18n must be an object of translations by language (nb, uk)."))]
    problems: list[ConfigError] = []
    for language, entry in block.items():
        at = f"{where}.{language}"
        if language not in I18N_LANGUAGES:
            problems.append(ConfigError(at, _l("x-i18n takes the languages %(languages)s only.",
                                               languages=", ".join(I18N_LANGUAGES))))
            continue
        if not isinstance(entry, dict):
            problems.append(ConfigError(at, _l("Translations for one language must be an object.")))
            continue
        for key, value in entry.items():
            here = f"{at}.{key}"
            if key not in allowed:
                problems.append(ConfigError(here, _l("x-i18n takes %(keys)s only.", keys=", ".join(allowed))))
            elif key in MAP_KEYS:
                problems += _map_problems(value, here)
            elif problem := _text_problem(value, MAX_TEXT[key]):
                problems.append(ConfigError(here, problem))
    return problems


def _text_problem(value: Any, limit: int) -> Any:
    if not isinstance(value, str) or not value.strip():
        return _l("A translation must be non-empty text.")
    if len(value) > limit:
        return _l("A translation may be at most %(limit)s characters long.", limit=limit)
    return None


def _map_problems(value: Any, where: str) -> list[ConfigError]:
    if not isinstance(value, dict):
        return [ConfigError(where, _l("Option and entry labels must be an object of texts by value."))]
    if len(value) > MAX_MAP_ENTRIES:
        return [ConfigError(where, _l("At most %(limit)s labels are allowed here.", limit=MAX_MAP_ENTRIES))]
    problems = []
    for name, label in value.items():
        if len(name) > MAX_MAP_KEY:
            problems.append(ConfigError(where, _l("A value named here may be at most %(limit)s characters long.",
                                                  limit=MAX_MAP_KEY)))
        elif problem := _text_problem(label, MAX_MAP_LABEL):
            problems.append(ConfigError(f"{where}.{name}", problem))
    return problems


def ui_i18n_problems(ui_schema: Any, path: str = "") -> list[ConfigError]:
    """x-i18n blocks anywhere in a ui_schema (its nodes are nested objects), each checked."""
    problems: list[ConfigError] = []
    stack: list[tuple[Any, str]] = [(ui_schema, path)]
    while stack:
        node, here = stack.pop()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == I18N_KEY:
                problems += i18n_problems(value, here)
            elif isinstance(value, dict):
                stack.append((value, f"{here}.{key}" if here else key))
    return sorted(problems, key=lambda e: e.path)
