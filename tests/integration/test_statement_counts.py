"""Quality gate: list pages issue a small, constant number of SQL statements (≤ 6),
whatever the number of rows — no N+1."""
from __future__ import annotations

import pytest

from tests.conftest import sign_in_client
from tests.helpers import counting_statements

MAX_STATEMENTS = 6


counting = counting_statements


def _fill(make, tenants, n):
    program = make.program(template=make.template("language"))
    campaigns = [make.campaign(tenants["company_a"], program, max_enrollment=100) for _ in range(n)]
    for _ in range(n):
        make.enrollment(campaigns[0])
    return campaigns[0]


PAGES = [
    ("pm", "/home", {}),
    ("admin_a", "/home", {}),
    ("pm", "/campaigns/", {}),
    ("admin_a", "/campaigns/", {}),
    ("admin_a", "/campaigns/{campaign}", {"HX-Request": "true"}),
    ("pm", "/programs/", {}),
    ("pm", "/templates/", {}),
    ("admin_a", "/activity/", {}),
    ("pm", "/l2i/", {}),
]


@pytest.mark.parametrize("role,path,headers", PAGES, ids=[f"{r}:{p}" for r, p, _ in PAGES])
def test_list_pages_issue_a_constant_small_number_of_statements(app, make, tenants, role, path, headers):
    small = _fill(make, tenants, 3)
    client = sign_in_client(app, tenants[role])
    with counting(app) as first:
        assert client.get(path.format(campaign=small.id), headers=headers).status_code == 200
    big = _fill(make, tenants, 40)
    with counting(app) as second:
        assert client.get(path.format(campaign=big.id), headers=headers).status_code == 200
    assert len(first) <= MAX_STATEMENTS, first
    assert len(second) == len(first), (first, second)
