import sqlalchemy as sa

from portal.db import db
from portal.models import Company


def test_rows_from_one_test_do_not_leak_into_the_next_part_1(make, app):
    make.company(name="Leaky Co")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Company.name == "Leaky Co")) == 1


def test_rows_from_one_test_do_not_leak_into_the_next_part_2(app):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Company.name == "Leaky Co")) == 0
