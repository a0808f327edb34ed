"""In-process page timings on the seeded demo database (SQLite)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from bench.harness import Report, time_ms


def run(report: Report, repeat: int = 200) -> None:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from portal import create_app
    from portal.db import db
    from portal.models import Campaign, User
    from portal.seed import seed_demo_data
    from tests.conftest import sign_in_client

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        seed_demo_data()
        pm = db.session.scalars(sa.select(User).where(User.role == "program_manager")).first()
        admin = db.session.scalars(sa.select(User).where(User.role == "company_admin")).first()
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.company_id == admin.company_id))
    pm_client, admin_client = sign_in_client(app, pm), sign_in_client(app, admin)

    def get(client, path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return call

    report.add_samples("page: home (program manager)", time_ms(get(pm_client, "/home"), repeat), 25)
    report.add_samples("page: home (company admin)", time_ms(get(admin_client, "/home"), repeat), 25)
    report.add_samples("page: campaign list", time_ms(get(pm_client, "/campaigns/"), repeat), 25)
    report.add_samples("page: campaign detail", time_ms(get(admin_client, f"/campaigns/{campaign_id}"), repeat), 25)
    report.add_samples("page: users & companies", time_ms(get(pm_client, "/admin/"), repeat), 25)
