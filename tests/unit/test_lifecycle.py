import itertools

import pytest

from portal.errors import InvalidTransition
from portal.lifecycle import RUN_STATUSES, RUN_TRANSITIONS, TEMPLATE_TRANSITIONS, check_transition

ALLOWED = {("draft", "active"), ("active", "paused"), ("paused", "active"), ("active", "completed"),
           ("paused", "completed"), ("draft", "archived"), ("active", "archived"), ("paused", "archived"),
           ("completed", "archived")}


@pytest.mark.parametrize("current,target", sorted(itertools.product(RUN_STATUSES, RUN_STATUSES)))
def test_every_move_of_the_shared_lifecycle(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as refused:
            check_transition(current, target)
        assert refused.value.allowed == list(RUN_TRANSITIONS[current])
        assert f"Allowed from {current}:" in refused.value.message


def test_archived_is_final_and_says_so():
    with pytest.raises(InvalidTransition, match="none \\(this state is final\\)"):
        check_transition("archived", "active")


def test_template_lifecycle_moves_forward_only():
    check_transition("draft", "active", TEMPLATE_TRANSITIONS)
    check_transition("active", "deprecated", TEMPLATE_TRANSITIONS)
    check_transition("deprecated", "archived", TEMPLATE_TRANSITIONS)
    for current, target in [("active", "draft"), ("deprecated", "active"), ("archived", "deprecated")]:
        with pytest.raises(InvalidTransition):
            check_transition(current, target, TEMPLATE_TRANSITIONS)


def test_activity_descriptions_name_the_subject():
    from types import SimpleNamespace

    from portal.activity.queries import event_kind as describe  # the kind of change, in words

    assert describe(SimpleNamespace(type="program.campaign.paused")) == "Campaign paused"
    assert describe(SimpleNamespace(type="program.enrollment.promoted")) == "Enrollment promoted"
    assert describe(SimpleNamespace(type="l2i.allocation.created")) == "L2I allocation created"
    assert describe(SimpleNamespace(type="program.started")) == "Program started"
    assert describe(SimpleNamespace(type="program.campaign.capacity_reached")) == "Campaign capacity reached"
