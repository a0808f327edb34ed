"""The beneficiary group list at scale (SQLite, in-process): 5,000 groups and 50,000
programs referencing them; first page, a deep page reached through the cursor, and
filtered pages. The figures per page come from grouped queries over the page's ids,
so a deep page costs what the first one does."""
from __future__ import annotations

import html
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import Report, time_ms

GROUPS, PROGRAMS_PER_GROUP, DEEP_PAGES = 5_000, 10, 50
COUNTRIES = ["NO", "SE", "DK", "FI", "DE", "PL", "UA", "NL", "FR", "ES"]
LANGUAGE_SETS = [["uk", "en"], ["uk", "nb"], ["ar", "de"], ["en", "sv"], ["pl", "uk", "en"], ["fi"], ["fr", "ar"]]
TYPES = ["refugees", "migrants", "asylum_seekers", "newcomers", "women_in_tech", "youth", "job_seekers"]
_NEXT = re.compile(r'class="pager".*?href="([^"]+)"', re.S)


def _fill(now: datetime) -> int:
    """Bulk-insert the groups and programs (Core executemany, not ORM objects); the PM's id."""
    import sqlalchemy as sa

    from portal.db import db
    from portal.models import BeneficiaryGroup, Program, ProgramTemplate, User

    session = db.session
    pm_id = session.execute(sa.insert(User).values(
        email="bench-pm@example.org", name="Bench Manager", role="program_manager", password_hash="x",
        session_token="bench-session-token", created_at=now, updated_at=now, lock_version=1,
    )).inserted_primary_key[0]
    template_id = session.execute(sa.insert(ProgramTemplate).values(
        key="bench-template", version=1, name="Bench template", description="", category="language",
        config_schema={"type": "object"}, default_config={}, status="active", tags=[], sdg_goals=[4],
        created_at=now, updated_at=now, lock_version=1,
    )).inserted_primary_key[0]
    session.execute(sa.insert(BeneficiaryGroup), [
        {"key": f"group-{i}", "name": f"Group {i} newcomers", "description": "A population.",
         "group_type": TYPES[i % len(TYPES)], "country": COUNTRIES[i % len(COUNTRIES)], "region": None,
         "city": f"City {i % 97}", "age_min": 18, "age_max": 65, "languages": LANGUAGE_SETS[i % len(LANGUAGE_SETS)],
         "language_requirement": "any", "eligible_categories": ["language", "mentorship"], "tags": ["bench"],
         "status": "inactive" if i % 7 == 3 else "active", "created_at": now - timedelta(minutes=GROUPS - i),
         "updated_at": now, "lock_version": 1}
        for i in range(GROUPS)
    ])
    group_ids = list(session.scalars(sa.select(BeneficiaryGroup.id).order_by(BeneficiaryGroup.id)))
    session.execute(sa.insert(Program), [
        {"key": f"program-{n}", "template_id": template_id, "group_id": group_ids[n % len(group_ids)],
         "name": f"Program {n}", "description": "", "config_overrides": {}, "status": "active",
         "visibility": "public", "tags": [], "sdg_goals": [4], "created_at": now - timedelta(seconds=n),
         "updated_at": now, "lock_version": 1}
        for n in range(GROUPS * PROGRAMS_PER_GROUP)
    ])
    session.commit()
    return pm_id


def run(report: Report, repeat: int = 200) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.db import db
    from portal.models import User
    from tests.conftest import sign_in_client

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-groups.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        pm = db.session.get(User, _fill(datetime.now(UTC)))
        db.session.expunge(pm)
    client = sign_in_client(app, pm)

    def page(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    deep = "/groups/"
    for _ in range(DEEP_PAGES):  # follow the pager ~50 pages in, as a user would
        deep = html.unescape(_NEXT.search(page(deep)).group(1))
    assert "Group " in page(deep)

    def get(path: str):
        return lambda: page(path)

    report.add_samples("groups: list first page", time_ms(get("/groups/"), repeat), 15)
    report.add_samples(f"groups: list page {DEEP_PAGES + 1} (cursor)", time_ms(get(deep), repeat), 15)
    report.add_samples("groups: list filtered (country + status)", time_ms(get("/groups/?country=NO&status=active"),
                                                                           repeat), 15)
    report.add_samples("groups: list filtered (language + search)",
                       time_ms(get("/groups/?language=uk&q=newcomers"), repeat), 15)


if __name__ == "__main__":
    bench_report = Report()
    run(bench_report)
    bench_report.print_and_save()
