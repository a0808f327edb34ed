"""The pure parts of the activity describer (issue #13 item 7): changed fields in words,
settings diffs with their schema titles, escaping, and the SDG names (item 8)."""
from __future__ import annotations

from markupsafe import Markup

from portal import reference
from portal.activity.models import ActivityEvent
from portal.activity.operations import config_changes
from portal.activity.sentences import Piece, Sentence, event_kind, field_changes


def event(type_: str = "program.campaign.updated", data: dict | None = None, subject_type: str = "campaigns"):
    return ActivityEvent(type=type_, subject_type=subject_type, subject_id=1, subject_label="X", data=data or {})


def test_changed_fields_read_old_to_new_in_words():
    changes = field_changes(event(data={
        "max_enrollment": {"from": 40, "to": 50}, "budget_allocated": {"from": None, "to": 150000},
        "waitlist_enabled": {"from": True, "to": False}, "languages": {"from": ["uk"], "to": ["uk", "en"]},
        "sdg_goals": {"from": [4], "to": [4, 10]}, "share_bp": {"from": 4500, "to": 6050},
        "subscription_id": 7,
    }))
    assert [(c.label, c.old, c.new) for c in changes] == [
        ("Cap", "40", "50"), ("Waitlist", "on", "off"), ("Budget", "—", "1,500.00"),
        ("SDGs", "SDG 4: Quality Education", "SDG 4: Quality Education, SDG 10: Reduced Inequalities"),
        ("Languages", "Ukrainian", "Ukrainian, English"), ("Share", "45.00 %", "60.50 %"),
    ]


def test_a_lifecycle_move_is_a_status_change_and_hidden_values_stay_hidden():
    move = field_changes(event("program.campaign.paused", {"from": "active", "to": "paused"}))
    assert [(c.label, c.old, c.new) for c in move] == [("Status", "active", "paused")]
    person = field_changes(event("participant.updated", {"display_name": {"from": "Olena", "to": "Olena K."},
                                                         "email": {"changed": True}}, "participants"),
                           show_values=False)
    assert [(c.label, c.values_shown) for c in person] == [("Name", False), ("E-mail", False)]
    assert "Olena" not in repr(person)


def test_settings_changes_carry_the_schema_titles():
    schema = {"type": "object", "properties": {"matching": {"type": "object", "title": "Matching", "properties": {
        "maxMenteesPerMentor": {"type": "integer", "title": "Max mentees per mentor"},
        "rule": {"type": "string"}}}}}
    before = {"matching": {"maxMenteesPerMentor": 2, "rule": "same_city"}}
    after = {"matching": {"maxMenteesPerMentor": 3, "rule": "same_city"}}
    assert config_changes(schema, before, after) == {
        "matching.maxMenteesPerMentor": {"from": 2, "to": 3, "label": "Matching › Max mentees per mentor"}}
    added = config_changes(schema, {}, {"matching": {"rule": "any"}})
    assert added == {"matching.rule": {"from": None, "to": "any", "label": "Matching › rule"}}
    changes = field_changes(event(data={"config_overrides": {}, "config_changes": config_changes(schema, before,
                                                                                                 after)}))
    assert [(c.label, c.old, c.new) for c in changes] == [("Matching › Max mentees per mentor", "2", "3")]


def test_a_sentence_escapes_text_and_links_only_what_it_may():
    said = Sentence(pieces=(Piece("Ann "), Piece("<b>Acme</b>", "/campaigns/1"), Piece(" & co")), kind="Campaign")
    assert said.__html__() == Markup('Ann <a href="/campaigns/1">&lt;b&gt;Acme&lt;/b&gt;</a> &amp; co')
    assert str(said) == "Ann <b>Acme</b> & co"


def test_event_kinds_stay_readable():
    assert event_kind(event("program.enrollment.promoted")) == "Enrollment promoted"
    assert event_kind(event("user.signed_in")) == "Signed in"


def test_sdg_names_are_the_uns():
    assert reference.sdg_title(4) == "Quality Education" and reference.sdg_title("17") == "Partnerships for the Goals"
    assert reference.sdg_name(16) == "SDG 16: Peace, Justice and Strong Institutions"
    assert reference.sdg_title(99) == "" and reference.sdg_name("x") == "x"
    assert len(reference.SDG_GOALS) == 17
