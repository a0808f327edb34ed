"""Test data factories: each call creates one committed row with sensible defaults
and returns it detached (columns loaded). Rules are tested through operations; these
only build the scene, but a consistent one: an enrollment moves its campaign's seat
counters as the operation would."""
from __future__ import annotations

import copy
import itertools
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from portal.auth.passwords import hash_password
from portal.db import db
from portal.models import (
    BeneficiaryGroup,
    Campaign,
    Company,
    Enrollment,
    Participant,
    Program,
    ProgramTemplate,
    User,
)

TEST_PASSWORD = "correct horse battery staple"
MASTERS = Path(__file__).resolve().parent.parent / "portal" / "configuration" / "masters"
_seq = itertools.count(1)


@lru_cache(maxsize=1)
def test_password_hash() -> str:
    return hash_password(TEST_PASSWORD)  # Argon2id is slow on purpose: hash once per run


@lru_cache(maxsize=4)
def master(name: str) -> dict[str, Any]:
    return json.loads((MASTERS / f"{name}.json").read_text())


# Which of the campaign's counters an enrollment of a beneficiary moves, by its status
# (the enrollment operations keep them equal to the rows).
_SEATS_TAKEN: dict[str, dict[str, int]] = {
    "active": {"enrolled_count": 1},
    "completed": {"enrolled_count": 1},
    "waitlisted": {"waitlisted_count": 1},
}


class Factory:
    def __init__(self, app: Flask):
        self.app = app

    def _save(self, obj: Any) -> Any:
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            db.session.refresh(obj)
            db.session.expunge(obj)
        return obj

    def company(self, **kw: Any) -> Company:
        n = next(_seq)
        kw.setdefault("name", f"Company {n}")
        kw.setdefault("key", f"company-{n}-{kw['name'].lower().replace(' ', '-')}"[:100])
        kw.setdefault("country", "NO")
        return self._save(Company(**kw))

    def user(self, role: str = "program_manager", company: Company | None = None, **kw: Any) -> User:
        n = next(_seq)
        kw.setdefault("name", f"User {n}")
        kw.setdefault("email", f"user{n}@example.org")
        return self._save(User(role=role, company_id=company.id if company else None,
                               password_hash=test_password_hash(), **kw))

    def template(self, master_name: str = "mentorship", **kw: Any) -> ProgramTemplate:
        m = master(master_name)
        n = next(_seq)
        kw.setdefault("key", f"{m['key']}-{n}")
        kw.setdefault("name", m["name"])
        kw.setdefault("category", m["category"])
        kw.setdefault("status", "active")
        kw.setdefault("version", 1)
        for field in ("config_schema", "default_config", "ui_schema", "sdg_goals", "tags", "description"):
            kw.setdefault(field, copy.deepcopy(m.get(field)))
        return self._save(ProgramTemplate(**kw))

    def group(self, **kw: Any) -> BeneficiaryGroup:
        n = next(_seq)
        kw.setdefault("key", f"group-{n}")
        kw.setdefault("name", f"Ukrainian newcomers {n}")
        kw.setdefault("group_type", "refugees")
        kw.setdefault("country", "NO")
        kw.setdefault("languages", ["uk", "en"])
        kw.setdefault("eligible_categories", ["mentorship", "language", "buddy"])
        return self._save(BeneficiaryGroup(**kw))

    def program(self, template: ProgramTemplate | None = None, group: BeneficiaryGroup | None = None,
                **kw: Any) -> Program:
        template = template or self.template()
        group = group or self.group()
        n = next(_seq)
        kw.setdefault("key", f"program-{n}")
        kw.setdefault("name", f"Program {n}")
        kw.setdefault("status", "active")
        kw.setdefault("sdg_goals", list(template.sdg_goals))
        return self._save(Program(template_id=template.id, group_id=group.id, **kw))

    def campaign(self, company: Company, program: Program | None = None, **kw: Any) -> Campaign:
        program = program or self.program()
        n = next(_seq)
        kw.setdefault("key", f"campaign-{n}")
        kw.setdefault("name", f"Campaign {n}")
        kw.setdefault("status", "active")
        kw.setdefault("start_date", date(2026, 1, 1))
        kw.setdefault("currency", "EUR")
        return self._save(Campaign(program_id=program.id, company_id=company.id, **kw))

    def participant(self, **kw: Any) -> Participant:
        n = next(_seq)
        kw.setdefault("display_name", f"Participant {n}")
        return self._save(Participant(**kw))

    def enrollment(self, campaign: Campaign, participant: Participant | None = None, **kw: Any) -> Enrollment:
        """An enrollment row, and the campaign's seat counters moved as enrolling does:
        an active or completed beneficiary takes a seat, a waitlisted one joins the
        waitlist; volunteers and dropped enrollments move nothing. A row the campaign's
        cap or budget has no seat for is refused by the database's CHECKs."""
        from portal.db import utcnow

        participant = participant or self.participant()
        kw.setdefault("role", "beneficiary")
        kw.setdefault("status", "active")
        kw.setdefault("enrolled_at", utcnow())
        enrollment = Enrollment(campaign_id=campaign.id, participant_id=participant.id, **kw)
        seats = _SEATS_TAKEN.get(kw["status"], {}) if kw["role"] == "beneficiary" else {}
        with self.app.app_context():
            db.session.add(enrollment)
            if seats:
                db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(
                    **{column: getattr(Campaign, column) + n for column, n in seats.items()}))
            db.session.commit()
            db.session.refresh(enrollment)
            db.session.expunge(enrollment)
        return enrollment

    def valuation_set(self, entries: list[dict[str, Any]] | tuple = (), **kw: Any) -> Any:
        """A valuation set (active version 1 in EUR, 3.5 %) with ``entries`` (dicts of
        ValuationEntry columns; outcome_type "delivery", no adjustments, 1 year by default)."""
        from decimal import Decimal

        from portal.impact.models import ValuationEntry, ValuationSet

        n = next(_seq)
        kw.setdefault("key", f"valuation-{n}")
        kw.setdefault("name", f"Valuation set {n}")
        kw.setdefault("currency", "EUR")
        kw.setdefault("status", "active")
        kw.setdefault("version", 1)
        kw.setdefault("discount_rate", Decimal("3.50"))
        valuation_set = ValuationSet(**kw)
        valuation_set.entries = [ValuationEntry(**{"outcome_type": "delivery", "source_text": "Test figure",
                                                   "source_url": "", "deadweight": 0, "attribution": 0,
                                                   "displacement": 0, "drop_off": 0, "duration_years": 1, **e})
                                 for e in entries]
        return self._save(valuation_set)

    def seat_counters(self, campaign: Campaign, *, enrolled: int | None = None, waitlisted: int | None = None) -> None:
        """Set a campaign's seat counters with no enrollment rows behind them: an
        inconsistent scene, on purpose (many seats taken without making the rows)."""
        values = {k: v for k, v in (("enrolled_count", enrolled), ("waitlisted_count", waitlisted)) if v is not None}
        with self.app.app_context():
            db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(**values))
            db.session.commit()
