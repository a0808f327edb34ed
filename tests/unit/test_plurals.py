"""Plural forms (issue #13, item 14): one rule, used by templates and flash messages alike."""
from __future__ import annotations

import pytest

from portal.text import plural, plural_word


@pytest.mark.parametrize("count,expected", [(0, "0 people"), (1, "1 person"), (2, "2 people"),
                                            (1204, "1,204 people")])
def test_irregular_plurals(count, expected):
    assert plural(count, "person", "people") == expected


@pytest.mark.parametrize("count,expected", [(0, "0 enrollments"), (1, "1 enrollment"), (3, "3 enrollments")])
def test_regular_plurals_add_an_s(count, expected):
    assert plural(count, "enrollment") == expected


def test_the_word_alone():
    assert (plural_word(1, "match", "matches"), plural_word(5, "match", "matches")) == ("match", "matches")


def test_the_template_filters():
    from portal import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        render = app.jinja_env.from_string(
            "{{ 1|plural('person', 'people') }} · {{ 3|plural('row') }} · {{ 1|plural_word('seat') }}").render
        assert render() == "1 person · 3 rows · seat"


def test_which_moves_ask_first():
    """Moves that cannot be undone ask for a confirmation; pausing and starting do not."""
    from portal.lifecycle import asks_confirmation

    assert [t for t in ("active", "paused", "completed", "archived", "deprecated", "inactive")
            if asks_confirmation(t)] == ["completed", "archived", "deprecated"]
