"""The catalog at scale (SQLite, in process): 5,000 groups and 50,000 programs, timed as
a company admin for the first page, a deep page (~50 cursors in), a filtered page
(category + country), a language + SDG page (JSON containment) and a search."""
from __future__ import annotations

import random
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import Report, time_ms

GROUPS = 5_000
PROGRAMS = 50_000
CAMPAIGNS = 3_000
ENROLLMENTS = 30_000
COUNTRIES = ["NO", "SE", "DK", "FI", "DE", "PL", "NL", "BE", "FR", "ES", "IT", "PT", "AT", "CH", "CZ", "SK", "HU",
             "RO", "BG", "GR", "IE", "GB", "EE", "LV", "LT", "UA", "MD", "CA", "US", "AU"]
LANGUAGES = ["uk", "ru", "en", "nb", "sv", "da", "fi", "de", "pl", "nl", "fr", "es", "it", "pt", "ar", "fa", "ps",
             "so", "ti", "tr"]
GROUP_TYPES = ["refugees", "migrants", "asylum_seekers", "displaced_persons", "newcomers", "women_in_tech", "youth",
               "seniors", "students", "job_seekers", "caregivers", "veterans", "other"]
CATEGORIES = ["mentorship", "language", "buddy", "upskilling", "weei"]
WORDS = ["Career", "Language", "Buddy", "Tandem", "Bridge", "Pathways", "Compass", "Circle", "Launch", "Horizon",
         "Mentors", "Conversation", "Coding", "Welcome", "Harbour", "Forward"]
PAGE_SIZE = 24
NEXT = re.compile(r'href="([^"]+)"[^>]*>More programs')


def _build(app, rng: random.Random) -> int:
    """Bulk-insert the world (executemany); return the admin's id."""
    import json

    import sqlalchemy as sa

    from portal.auth.models import Company, User
    from portal.beneficiaries.models import BeneficiaryGroup
    from portal.campaigns.models import Campaign
    from portal.db import db
    from portal.enrollments.models import Enrollment, Participant
    from portal.program_templates.models import ProgramTemplate
    from portal.programs.models import Program

    masters = Path(__file__).resolve().parent.parent / "portal" / "configuration" / "masters"
    language = json.loads((masters / "language.json").read_text())
    base = datetime(2024, 1, 1, tzinfo=UTC)
    with app.app_context():
        session = db.session
        session.execute(sa.insert(Company), [
            {"key": f"company-{n}", "name": f"Company {n}", "country": "NO", "created_at": base, "updated_at": base}
            for n in range(10)])
        company_ids = session.scalars(sa.select(Company.id).order_by(Company.id)).all()
        session.execute(sa.insert(User), [{
            "email": "catalog-admin@bench.example", "name": "Bench Admin", "role": "company_admin",
            "company_id": company_ids[0], "password_hash": "x", "created_at": base, "updated_at": base}])
        session.execute(sa.insert(ProgramTemplate), [{
            "key": f"bench-{category}", "version": 1, "name": f"{category.title()} template", "category": category,
            "config_schema": language["config_schema"], "default_config": language["default_config"],
            "status": "active", "sdg_goals": [4, 10], "tags": [], "description": "",
            "created_at": base, "updated_at": base} for category in CATEGORIES])
        template_ids = session.scalars(sa.select(ProgramTemplate.id).order_by(ProgramTemplate.id)).all()
        session.execute(sa.insert(BeneficiaryGroup), [{
            "key": f"group-{n}", "name": f"{rng.choice(WORDS)} community {n}", "description": "internal",
            "group_type": rng.choice(GROUP_TYPES), "country": rng.choice(COUNTRIES),
            "languages": rng.sample(LANGUAGES, rng.randint(1, 3)), "language_requirement": "any",
            "eligible_categories": CATEGORIES, "tags": [], "status": "active",
            "created_at": base, "updated_at": base} for n in range(GROUPS)])
        group_ids = session.scalars(sa.select(BeneficiaryGroup.id)).all()
        rows = []
        for n in range(PROGRAMS):
            stamp = base + timedelta(minutes=n)
            roll = rng.random()
            rows.append({
                "key": f"program-{n}", "template_id": rng.choice(template_ids), "group_id": rng.choice(group_ids),
                "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}",
                "description": f"A {rng.choice(WORDS).lower()} program, run with local partners.",
                "config_overrides": {}, "status": "active" if roll < .85 else rng.choice(["draft", "paused",
                                                                                          "completed"]),
                "visibility": "public" if rng.random() < .9 else "private", "tags": [],
                "sdg_goals": sorted(rng.sample(range(1, 18), rng.randint(1, 4))),
                "created_at": stamp, "updated_at": stamp})
        session.execute(sa.insert(Program), rows)
        # Campaigns on the newest programs (the first pages show figures); a third are the admin's company's.
        newest = session.scalars(sa.select(Program.id).order_by(Program.id.desc()).limit(CAMPAIGNS)).all()
        session.execute(sa.insert(Campaign), [{
            "key": f"campaign-{n}", "program_id": program_id, "company_id": company_ids[n % 3],
            "name": f"Campaign {n}", "config_overrides": {}, "status": "active", "start_date": base.date(),
            "currency": "EUR", "tags": [], "enrolled_count": 0, "waitlisted_count": 0,
            "created_at": base, "updated_at": base} for n, program_id in enumerate(newest)])
        campaign_ids = session.scalars(sa.select(Campaign.id)).all()
        session.execute(sa.insert(Participant), [{
            "ref": f"P-B{n:07d}", "display_name": f"Participant {n}", "languages": [], "is_enabled": True,
            "created_at": base, "updated_at": base} for n in range(ENROLLMENTS)])
        participant_ids = session.scalars(sa.select(Participant.id)).all()
        session.execute(sa.insert(Enrollment), [{
            "campaign_id": campaign_ids[n % len(campaign_ids)], "participant_id": participant_id,
            "role": "beneficiary" if n % 5 else "volunteer", "status": "active", "enrolled_at": base,
            "source": "manual", "meta": {}, "created_at": base, "updated_at": base}
            for n, participant_id in enumerate(participant_ids)])
        session.execute(sa.text("ANALYZE"))
        session.commit()
        return session.scalar(sa.select(User.id).where(User.email == "catalog-admin@bench.example"))


def run(report: Report, repeat: int = 100) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.db import db
    from portal.models import User
    from tests.conftest import sign_in_client

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-catalog.db'}"
    # The production default: the shared filter options are reused for 60 s.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False,
                     PORTAL_CATALOG_PAGE_SIZE=PAGE_SIZE, PORTAL_CATALOG_CHOICES_TTL=60)
    with app.app_context():
        upgrade()
    admin_id = _build(app, random.Random(2026))
    with app.app_context():
        admin = db.session.get(User, admin_id)
        db.session.expunge(admin)
    client = sign_in_client(app, admin)

    def get(path: str, headers: dict[str, str] | None = None):
        def call():
            response = client.get(path, headers=headers or {})
            assert response.status_code == 200, (path, response.status_code)
            return response
        return call

    deep = "/catalog/"
    for _ in range(50):  # follow the pager ~50 cursors in
        deep = NEXT.search(get(deep)().get_data(as_text=True)).group(1).replace("&amp;", "&")

    report.add_samples("catalog: first page (50k programs)", time_ms(get("/catalog/"), repeat), 15)
    report.add_samples("catalog: first page, HTMX fragment", time_ms(get("/catalog/", {"HX-Request": "true"}), repeat),
                       15)
    report.add_samples("catalog: deep page (50 cursors in)", time_ms(get(deep), repeat), 15)
    report.add_samples("catalog: category + country", time_ms(get("/catalog/?category=language&country=NO"), repeat), 15)
    report.add_samples("catalog: language + SDG", time_ms(get("/catalog/?language=uk&sdg=5"), repeat), 15)
    report.add_samples("catalog: search", time_ms(get("/catalog/?q=tandem"), repeat), 15)


if __name__ == "__main__":
    bench_report = Report()
    run(bench_report)
    bench_report.print_and_save()
