"""Participant search at a million participants (SQLite): bulk-load 1,000,000 realistic
participants with Core executemany, then time the /participants/ page in-process as a
program manager for a name prefix, an exact e-mail and an exact external reference
(p95 target 50 ms each), plus the unfiltered first page."""
from __future__ import annotations

import itertools
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from bench.harness import Report, time_ms

PARTICIPANTS = 1_000_000
CHUNK = 20_000
FIRST = ("Oksana", "Olena", "Iryna", "Natalia", "Tetiana", "Yulia", "Kateryna", "Anna", "Mariia", "Svitlana",
         "Andrii", "Oleksandr", "Dmytro", "Serhii", "Mykola", "Volodymyr", "Ivan", "Yurii", "Bohdan", "Taras",
         "Ingrid", "Kari", "Nora", "Sofie", "Emma", "Lars", "Ole", "Jonas", "Magnus", "Henrik",
         "Fatima", "Amal", "Noor", "Ahmad", "Omar", "Layla", "Yusuf", "Zainab", "Maryam", "Hassan")
LAST = ("Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Boiko", "Kovalchuk",
        "Oliinyk", "Lysenko", "Moroz", "Marchenko", "Savchenko", "Rudenko", "Polishchuk", "Hansen", "Johansen",
        "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Berg", "Haugen", "Dahl", "Lie",
        "Al-Sayed", "Haddad", "Khalil", "Nasser", "Rahman", "Hussein", "Karimi", "Ahmadi")
DOMAINS = ("example.org", "mail.example", "post.example.no", "ukr.example", "company.example")
SOURCES = ("kintell", "buddy", "upskilling")
LANGUAGES = (["uk"], ["uk", "en"], ["ru", "uk"], ["no", "en"], ["ar", "en"], ["en"])
COUNTRIES = ("UA", "NO", "SE", "PL", "DE", "SY", None)
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def participant_ref(i: int) -> str:
    """A unique pseudonymous reference per row: i scrambled by an odd multiplier (a bijection mod 32^7)."""
    n = (i * 2_654_435_761 + 12_345) % 32**7
    chars = []
    for _ in range(7):
        n, digit = divmod(n, 32)
        chars.append(_REF_ALPHABET[digit])
    return "P-" + "".join(chars)


def rows(start: int, stop: int, rng: random.Random, now: datetime) -> list[dict]:
    out = []
    for i in range(start, stop):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = now - timedelta(seconds=(PARTICIPANTS - i) * 60)  # one a minute, oldest first
        out.append({
            "ref": participant_ref(i),
            "display_name": f"{first} {last}",
            "email": f"{first}.{last}.{i}@{DOMAINS[i % len(DOMAINS)]}".lower() if i % 5 else None,
            "year_of_birth": rng.randint(1950, 2010) if i % 3 else None,
            "languages": LANGUAGES[i % len(LANGUAGES)],
            "country": COUNTRIES[i % len(COUNTRIES)],
            "external_ref": f"{SOURCES[i % len(SOURCES)]}:{100_000 + i}" if i % 2 else None,
            "company_id": None,
            "is_enabled": True,
            "created_at": created,
            "updated_at": created,
            "lock_version": 1,
        })
    return out


def build(url: str) -> tuple[int, float]:
    """Migrate and load; returns the program manager's id and the load time in seconds."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.models import User
    from portal.db import db
    from portal.enrollments.models import Participant

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        rng, now = random.Random(20261124), datetime.now(UTC)
        started = time.perf_counter()
        table = Participant.__table__
        for start in range(0, PARTICIPANTS, CHUNK):
            with db.engine.begin() as conn:
                conn.execute(sa.insert(table), rows(start, min(start + CHUNK, PARTICIPANTS), rng, now))
        loaded = time.perf_counter() - started
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            pm_id = conn.execute(sa.insert(User).values(  # no password needed: the test client carries the session
                email="bench.pm@example.org", name="Bench Manager", role="program_manager", password_hash="!",
                session_token="bench-pm-session-token").returning(User.id)).scalar_one()
        db.engine.dispose()
    return pm_id, loaded


def run(report: Report, repeat: int = 200) -> None:
    from portal import create_app
    from portal.auth.models import User
    from portal.db import db
    from portal.enrollments.models import Participant
    from tests.conftest import sign_in_client

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-participants-')) / 'participants.db'}"
    pm_id, loaded = build(url)
    report.add("participants: load 1M rows (Core executemany)", loaded * 1000, None)

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        pm = db.session.get(User, pm_id)
        db.session.expunge(pm)
        rng = random.Random(7)
        sample_ids = rng.sample(range(1, PARTICIPANTS + 1), 400)
        picked = db.session.execute(sa.select(Participant.email, Participant.external_ref, Participant.display_name)
                                    .where(Participant.id.in_(sample_ids))).all()
    client = sign_in_client(app, pm)
    emails = [r.email for r in picked if r.email]
    refs = [r.external_ref for r in picked if r.external_ref]
    prefixes = [r.display_name[: rng.randint(3, 8)] for r in picked]
    prefixes = [p.lower() if i % 2 else p for i, p in enumerate(prefixes)]  # half typed in lowercase

    def searcher(values: list[str], expect: str | None = None):
        cycle = itertools.cycle(values)

        def call():
            value = next(cycle)
            response = client.get(f"/participants/?q={quote(value)}", headers={"HX-Request": "true"})
            assert response.status_code == 200, (value, response.status_code)
            if expect == "one":
                assert response.get_data(as_text=True).count('<a href="/participants/') == 1, value
        return call

    report.add_samples("participants search: name prefix (1M)", time_ms(searcher(prefixes), repeat), 50)
    report.add_samples("participants search: e-mail exact (1M)", time_ms(searcher(emails, "one"), repeat), 50)
    report.add_samples("participants search: external ref exact (1M)", time_ms(searcher(refs, "one"), repeat), 50)
    report.add_samples("participants list: first page (1M)", time_ms(searcher([""]), repeat), 50)
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    bench_report = Report()
    run(bench_report)
    bench_report.print_and_save()
