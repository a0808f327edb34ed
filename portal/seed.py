"""Demo data for ``flask seed`` (and ``make run``), created through the same
operations as the screens, in one transaction. Idempotent: a second run adds nothing."""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.auth.operations import create_company, create_user
from portal.beneficiaries.operations import create_group
from portal.campaigns.operations import create_campaign, transition_campaign
from portal.configuration.masters import MASTER_FILES, load_master
from portal.db import db, transaction, utcnow
from portal.deliveries.operations import record_delivery
from portal.enrollments.operations import (
    complete_enrollment,
    create_participant,
    drop_enrollment,
    enroll_participant,
)
from portal.enrollments.rollup import rebuild_enrollment_days
from portal.l2i.operations import allocate, create_subscription
from portal.matches.operations import confirm_match, end_match, propose_match
from portal.program_templates.models import ProgramTemplate
from portal.program_templates.operations import create_template, publish_template
from portal.programs.operations import launch_program, transition_program

DEMO_PASSWORD = "demo-password-2026"
PM_EMAIL = "pm@impact.example"
COMPANIES = [
    # name, country, industry, admin e-mail, admin name
    ("Acme Corp", "NO", "Manufacturing", "admin@acme.example", "Astrid Berg"),
    ("Nordlys Energi", "NO", "Energy", "admin@nordlys.example", "Lars Nilsen"),
    ("Helvetia Logistics", "CH", "Logistics", "admin@helvetia.example", "Mia Keller"),
]

FIRST = ["Olena", "Dmytro", "Iryna", "Andrii", "Oksana", "Serhii", "Yulia", "Taras", "Kateryna", "Mykola",
         "Natalia", "Oleksandr", "Sofia", "Bohdan", "Anastasia", "Vasyl", "Halyna", "Ihor", "Maryna", "Roman",
         "Amal", "Omar", "Layla", "Yusuf", "Rania", "Karim", "Noor", "Samir"]
LAST = ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Oliinyk", "Lysenko",
        "Marchenko", "Savchenko", "Rudenko", "Moroz", "Petrenko", "Hassan", "Haddad", "Khalil", "Nasser"]
EMPLOYEE_NAMES = ["Ingrid Solberg", "Henrik Dahl", "Maja Lund", "Erik Haugen", "Sara Moen", "Jonas Bakke",
                  "Nora Strand", "Ola Vik", "Kari Eide", "Petter Holm"]


def demo_sign_ins() -> list[tuple[str, str, str | None]]:
    return [(PM_EMAIL, "program manager", None)] + [(c[3], "company admin", c[0]) for c in COMPANIES]


def seed_master_templates(actor: User | None) -> dict[str, ProgramTemplate]:
    """The three master templates, active version 1 (skipped when their key exists)."""
    result = {}
    for file_name in MASTER_FILES:
        m = load_master(file_name)
        existing = db.session.scalars(
            sa.select(ProgramTemplate).where(ProgramTemplate.key == m["key"]).order_by(ProgramTemplate.version.desc())
        ).first()
        if existing is None:
            existing = create_template(actor, key=m["key"], name=m["name"], category=m["category"],
                                       description=m["description"], config_schema=m["config_schema"],
                                       default_config=m["default_config"], ui_schema=m.get("ui_schema"),
                                       tags=m.get("tags"), sdg_goals=m.get("sdg_goals"))
            publish_template(actor, existing)
        result[m["category"]] = existing
    return result


def seed_demo_data() -> bool:
    """Create the demo world once. Returns False when it is already there."""
    if db.session.scalar(sa.select(User.id).where(User.email == PM_EMAIL)) is not None:
        return False
    rng = random.Random(2026)
    with transaction():
        pm = create_user(None, email=PM_EMAIL, name="Priya Manager", role="program_manager", password=DEMO_PASSWORD)
        companies = []
        for name, country, industry, email, admin_name in COMPANIES:
            company = create_company(pm, name=name, country=country, industry=industry)
            create_user(pm, email=email, name=admin_name, role="company_admin", password=DEMO_PASSWORD,
                        company_id=company.id)
            companies.append(company)
        acme, nordlys, helvetia = companies
        templates = seed_master_templates(pm)

        groups = {
            "ua_no": create_group(pm, name="Ukrainian refugees in Norway", group_type="refugees", country="NO",
                                  region="Viken", languages=["uk", "en", "nb"], language_requirement="beginner",
                                  age_min=18, age_max=70, eligible_categories=["language", "mentorship", "buddy"],
                                  tags=["ukraine", "2026 cohort"],
                                  description="Adults displaced from Ukraine, settled in eastern Norway."),
            "ua_pl": create_group(pm, name="Ukrainian newcomers in Poland", group_type="newcomers", country="PL",
                                  city="Kraków", languages=["uk", "pl", "en"], language_requirement="any",
                                  age_min=18, age_max=65, eligible_categories=["mentorship", "upskilling"],
                                  tags=["ukraine"], description="Working-age newcomers building careers."),
            "sy_de": create_group(pm, name="Asylum seekers in Berlin", group_type="asylum_seekers", country="DE",
                                  city="Berlin", languages=["ar", "de", "en"], language_requirement="any",
                                  eligible_categories=["buddy", "language"], tags=["integration"],
                                  description="Recently arrived asylum seekers looking for local connections."),
            "wit_no": create_group(pm, name="Women in tech, Oslo", group_type="women_in_tech", country="NO",
                                   city="Oslo", languages=["en", "nb"], language_requirement="conversational",
                                   eligible_categories=["mentorship", "upskilling"], tags=["tech"],
                                   description="Women changing careers into software and data roles."),
        }

        def launch(template_cat: str, group: str, name: str, overrides: dict | None = None,
                   visibility: str = "public", extra_sdgs: list[int] | None = None):
            program = launch_program(pm, template=templates[template_cat], group=groups[group], name=name,
                                     config_overrides=overrides or {}, start_date=date(2026, 1, 1),
                                     end_date=date(2026, 12, 31), visibility=visibility,
                                     extra_sdg_goals=extra_sdgs, description=f"{name}: run with partner companies.")
            transition_program(pm, program, "active")
            return program

        p_lang = launch("language", "ua_no", "Language for Ukrainian Refugees in Norway",
                        {"session": {"defaultDurationMinutes": 60}}, extra_sdgs=[5])
        p_ment = launch("mentorship", "ua_pl", "Mentors for Ukraine – Poland",
                        {"matching": {"maxMenteesPerMentor": 2}})
        p_buddy = launch("buddy", "sy_de", "Buddy Integration Berlin")
        p_wit = launch("mentorship", "wit_no", "Mentorship for Women in Tech", visibility="private",
                       extra_sdgs=[5])

        def campaign(program, company, name, **kw):
            c = create_campaign(pm, program=program, company=company, name=name,
                                start_date=kw.pop("start_date", date(2026, 1, 15)), **kw)
            transition_campaign(pm, c, "active")
            return c

        c1 = campaign(p_lang, acme, "Acme – Language for Ukrainians Q1 2026", target_enrollment=100,
                      max_enrollment=120, waitlist_enabled=True, target_volunteers=10, currency="NOK",
                      budget_allocated=72_000_000, seat_price=500_000, internal_code="ACME-CSR-014",
                      config_overrides={"session": {"minSessionsPerWeek": 3}})
        c2 = campaign(p_ment, acme, "Acme – Mentors Poland pilot", target_enrollment=40, max_enrollment=60,
                      target_volunteers=15, currency="EUR", budget_allocated=3_000_000, seat_price=50_000)
        c3 = campaign(p_buddy, nordlys, "Nordlys – Buddy Berlin 2026", target_enrollment=40, max_enrollment=50,
                      waitlist_enabled=True, currency="EUR")
        c4 = campaign(p_lang, nordlys, "Nordlys – Language spring", target_enrollment=30, max_enrollment=30,
                      currency="NOK")
        c5 = campaign(p_ment, helvetia, "Helvetia – Mentors Poland 2025", target_enrollment=25,
                      max_enrollment=30, currency="CHF", start_date=date(2025, 9, 1), end_date=date(2026, 2, 28))
        c6 = create_campaign(pm, program=p_buddy, company=helvetia, name="Helvetia – Buddy Berlin autumn",
                             start_date=date(2026, 9, 1), target_enrollment=20, max_enrollment=25, currency="CHF")

        today = utcnow()
        used_names: set[str] = set()

        def person(languages: list[str], country: str, company_id: int | None = None, name: str | None = None):
            while name is None or name in used_names:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if name is None or name in used_names else name
                if name in used_names:
                    name = f"{name} {rng.randint(2, 99)}"
            used_names.add(name)
            slug = name.lower().replace(" ", ".")
            return create_participant(pm, display_name=name, email=f"{slug}@example.net",
                                      year_of_birth=today.year - rng.randint(19, 60), languages=languages,
                                      country=country, company_id=company_id,
                                      external_ref=f"kintell:{rng.randint(10_000, 99_999)}-{len(used_names)}")

        def backdate(enrollment, days_ago: int):
            when = today - timedelta(days=days_ago, hours=rng.randint(0, 23))
            enrollment.created_at = when
            if enrollment.enrolled_at:
                enrollment.enrolled_at = when
            if enrollment.waitlisted_at:
                enrollment.waitlisted_at = when

        def fill(camp, count, languages, country, days_span=120):
            made = []
            for i in range(count):
                e = enroll_participant(pm, camp.id, person(languages, country), source=rng.choice(["manual", "csv",
                                                                                                  "kintell"]))
                backdate(e, days_span - int(i * days_span / max(count, 1)))
                made.append(e)
            return made

        e1 = fill(c1, 140, ["uk", "en"], "UA")              # 120 active, 20 on the waitlist
        e2 = fill(c2, 45, ["uk", "pl"], "UA", days_span=90)
        mentors = []
        for name in EMPLOYEE_NAMES[:6]:                       # Acme employees volunteering as mentors
            v = create_participant(pm, display_name=name, email=f"{name.lower().replace(' ', '.')}@acme.example",
                                   languages=["en", "nb"], country="NO", company_id=acme.id)
            mentors.append(enroll_participant(pm, c2.id, v, role="volunteer"))
            backdate(mentors[-1], rng.randint(10, 80))
        e3 = fill(c3, 48, ["ar", "de"], "SY", days_span=60)
        e4 = fill(c4, 20, ["uk"], "UA", days_span=150)
        e5 = fill(c5, 25, ["uk", "en"], "UA", days_span=200)
        for name in EMPLOYEE_NAMES[6:]:
            v = create_participant(pm, display_name=name, email=f"{name.lower().replace(' ', '.')}@nordlys.example",
                                   languages=["en", "de"], country="NO", company_id=nordlys.id)
            enroll_participant(pm, c3.id, v, role="volunteer")
        for e in e1[:12]:
            complete_enrollment(pm, e)
        drop_enrollment(pm, e1[20], "Moved to another city")   # promotes the oldest waitlisted
        for e in e3[:5]:
            complete_enrollment(pm, e)
        drop_enrollment(pm, e3[7], "Found a job; no time for meetings")
        # Pairs in the mentorship pilot (2 mentees per mentor there): most confirmed, one
        # proposed, one ended; then three mentees complete, which ends their matches.
        pairs = []
        for i, mentee in enumerate(e2[:11]):
            match = propose_match(pm, c2, mentors[i % len(mentors)], mentee)
            if i < 10:
                confirm_match(pm, match)
                pairs.append((mentors[i % len(mentors)], mentee, match))
            if i == 9:
                end_match(pm, match, "The mentee moved to another city.")
        seed_deliveries(pm, rng, today.date(), language=e1[:60], pairs=pairs[:9], buddies=e3[:30])
        for e in e2[:3]:
            complete_enrollment(pm, e)
        for e in e5:
            complete_enrollment(pm, e)
        transition_campaign(pm, c4, "paused")
        transition_campaign(pm, c5, "completed")
        del e4, c6

        sub = create_subscription(pm, company=acme, sku="L2I-250", annual_price=13_000_000, currency="NOK",
                                  period_start=date(date.today().year, 1, 1), period_end=date(date.today().year, 12, 31))
        allocate(pm, sub.id, share="0.45", period_start=date(date.today().year, 1, 1), period_end=date(date.today().year, 12, 31), campaign=c1)
        allocate(pm, sub.id, share="0.2", period_start=date(date.today().year, 1, 1), period_end=date(date.today().year, 6, 30), program=p_ment)
        seed_valuation_sets(pm, {"language": [p_lang], "mentorship": [p_ment, p_wit], "buddy": [p_buddy]})
        del p_wit
        rebuild_enrollment_days()  # the demo backdated its enrollments: count them on their days
    return True


# Demo valuation sets (SPEC §2.11), one per master template. DEMO VALUES: each proxy is a
# plausible order of magnitude with the public source it leans on, to show how SROI is
# traced; check the current figures before quoting any of them.
_DEMO_RATE_NOTE = ("Demo values, not for reporting. Discount rate 3.5 %: the UK Treasury Green Book's social time "
                   "preference rate, the usual default in SROI guidance (Social Value UK).")
DEMO_VALUATIONS = {
    "language": ("language-outcomes-demo", "Language practice outcomes (demo)", "NOK", [
        ("delivery:session_completed", "400", "Demo value: about the price of a 45–60 minute one-to-one Norwegian "
         "conversation lesson from commercial tutors in Oslo (NOK 350–600 in 2025 listings).", "", 10, 0, 20, 50, 1),
        ("delivery:cefr_level_advanced", "15000", "Demo value: roughly the cost of teaching one CEFR level of Norwegian "
         "to an adult immigrant (about 100–150 taught hours at a public provider); HK-dir on Norwegian training for "
         "adult immigrants.", "https://hkdir.no/", 25, 0, 30, 10, 3),
        ("delivery:cultural_integration_event", "300", "Demo value: a typical ticket for a comparable cultural or social "
         "event in Oslo.", "", 20, 0, 20, 100, 1),
        ("completion:program_completed", "25000", "Demo value: about three quarters of a month of entry-level gross "
         "earnings in Norway (Statistics Norway earnings statistics), for starting work sooner.",
         "https://www.ssb.no/en", 40, 10, 40, 20, 2),
    ]),
    "mentorship": ("mentoring-outcomes-demo", "Mentoring outcomes (demo)", "EUR", [
        ("delivery:session_completed", "60", "Demo value: an hour of professional career coaching in Poland "
         "(EUR 50–80 in 2025 market listings).", "", 10, 0, 25, 50, 1),
        ("delivery:mentee_employed", "9000", "Demo value: about six months of the Polish minimum wage (PLN 4,666 gross "
         "a month in 2025, about EUR 1,090) as earnings gained and benefits saved; Eurostat minimum wage statistics.",
         "https://ec.europa.eu/eurostat", 35, 10, 40, 25, 3),
        ("milestone:established", "150", "Demo value: the cost per participant of a six-session peer support group, "
         "for a trusted professional contact made.", "", 20, 0, 30, 50, 1),
        ("completion:program_completed", "1200", "Demo value: the cost per participant of a comparable public "
         "employability course.", "", 30, 0, 30, 30, 2),
    ]),
    "buddy": ("buddy-outcomes-demo", "Buddy integration outcomes (demo)", "EUR", [
        ("delivery:event_attended", "15", "Demo value: the typical cost per person of a social or cultural outing in "
         "Berlin (entry tickets, 2025).", "", 20, 0, 20, 100, 1),
        ("delivery:checkin_completed", "25", "Demo value: half an hour of a social worker's time in Germany (employer "
         "cost about EUR 50 an hour).", "", 10, 0, 20, 100, 1),
        ("milestone:integrated", "2500", "Demo value: wellbeing value of feeling one belongs to the neighbourhood, "
         "after the UK Social Value Bank (HACT), converted and halved for caution.", "https://hact.org.uk/",
         30, 0, 40, 30, 2),
        ("milestone:thriving", "4000", "Demo value: as “integrated”, plus the value of regular social contact "
         "(UK Social Value Bank, HACT), halved for caution.", "https://hact.org.uk/", 30, 0, 40, 30, 3),
    ]),
}


def seed_valuation_sets(pm: User, programs: dict[str, list]) -> None:
    """One active demo valuation set per master, through the screens' operations, pinned to
    the demo programs of that master."""
    from portal.impact.operations import activate, create_valuation_set, pin_program, save_entry

    for category, (key, name, currency, entries) in DEMO_VALUATIONS.items():
        valuation_set = create_valuation_set(pm, key=key, name=name, currency=currency, discount_rate="3.5",
                                             description=_DEMO_RATE_NOTE)
        for outcome, proxy, source, url, deadweight, displacement, attribution, drop_off, years in entries:
            save_entry(pm, valuation_set, expected_version=None, outcome=outcome, proxy=proxy, source_text=source,
                       source_url=url, deadweight=deadweight, displacement=displacement, attribution=attribution,
                       drop_off=drop_off, duration_years=years)
        db.session.refresh(valuation_set)
        activate(pm, valuation_set, expected_version=None)
        for program in programs.get(category, []):
            pin_program(pm, program, valuation_set, expected_version=None)


def seed_deliveries(pm: User, rng: random.Random, today: date, *, language: list, pairs: list, buddies: list) -> None:
    """A few months of what happened, through the one delivery operation: language sessions
    (some excused) and a few CEFR levels; weekly mentoring sessions of the confirmed pairs
    (one delivery on each side); buddy events, check-ins and skill shares. Dates fall
    between each enrollment's start and today."""
    def deliver(enrollment, kind: str, days_ago: int, **kw) -> None:
        start = (enrollment.enrolled_at or enrollment.created_at).date()
        record_delivery(pm, enrollment, kind=kind, occurred_on=max(start, today - timedelta(days=days_ago)), **kw)

    def span(enrollment) -> int:
        return max(0, (today - (enrollment.enrolled_at or enrollment.created_at).date()).days)

    for e in (e for e in language if e.status == "active"):
        for days_ago in sorted(rng.sample(range(span(e) + 1), min(span(e) + 1, rng.randint(2, 9))), reverse=True):
            deliver(e, "session_completed", days_ago, duration_minutes=60,
                    attendance="excused" if rng.random() < 0.12 else "present")
        if rng.random() < 0.2:
            deliver(e, "cefr_level_advanced", rng.randint(0, span(e)), meta={"level": "A2"})
    for volunteer, mentee, match in pairs:
        for week in range(min(span(mentee) // 7, rng.randint(3, 9)), 0, -1):
            deliver(volunteer, "session_completed", week * 7, duration_minutes=60, attendance="present",
                    match_id=match.id)
        if rng.random() < 0.35:
            deliver(mentee, "goal_achieved", rng.randint(0, span(mentee)))
    for e in (e for e in buddies if e.status == "active"):
        for _ in range(rng.randint(1, 6)):
            deliver(e, "event_attended", rng.randint(0, span(e)))
        for _ in range(rng.randint(1, 8)):
            deliver(e, "checkin_completed", rng.randint(0, span(e)))
        if rng.random() < 0.15:
            deliver(e, "skill_share_completed", rng.randint(0, span(e)))
