"""The migrations folder, run for real on the current backend (``--db``): each test
gets its own empty database from ``fresh_database_url``.

* upgrade from empty builds every table the models declare;
* downgrade to base removes them all again, and upgrade works a second time;
* the migrated schema matches the models (Alembic autogenerate finds nothing to do);
* the partial unique indexes (one draft / one active template per key) exist and bite.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from portal import create_app
from portal.db import db
from portal.jobs.models import is_application_table
from portal.models import ProgramTemplate

ALEMBIC_TABLE = "alembic_version"


@contextmanager
def migrated_app(url: str) -> Iterator[None]:
    """An app context on ``url`` that disposes the engine afterwards (PostgreSQL can
    only drop a database nobody is connected to)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        try:
            yield
        finally:
            db.engine.dispose()


def table_names() -> set[str]:
    """The application's tables (not Procrastinate's queue on PostgreSQL)."""
    return {name for name in sa.inspect(db.engine).get_table_names() if is_application_table(name, "table")}


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def head_revisions() -> tuple[str, ...]:
    config = current_app.extensions["migrate"].migrate.get_config()
    return tuple(ScriptDirectory.from_config(config).get_heads())


def current_revisions() -> tuple[str, ...]:
    with db.engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def schema_drift() -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True,
                                                                "include_name": is_application_table})
        return compare_metadata(context, db.metadata)


def test_the_migrations_have_a_single_head(fresh_database_url):
    with migrated_app(fresh_database_url("heads")):
        assert len(head_revisions()) == 1


def test_upgrade_from_empty_creates_every_table(fresh_database_url):
    with migrated_app(fresh_database_url("upgrade")):
        assert table_names() == set()
        upgrade()
        assert table_names() == model_tables() | {ALEMBIC_TABLE}
        assert current_revisions() == head_revisions()


def test_downgrade_to_base_leaves_no_application_tables(fresh_database_url):
    with migrated_app(fresh_database_url("downgrade")):
        upgrade()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {ALEMBIC_TABLE}  # Procrastinate's queue too
        assert current_revisions() == ()


def test_upgrade_works_again_after_a_full_downgrade(fresh_database_url):
    with migrated_app(fresh_database_url("roundtrip")):
        upgrade()
        downgrade(revision="base")
        upgrade()
        assert table_names() == model_tables() | {ALEMBIC_TABLE}
        assert current_revisions() == head_revisions()
        assert schema_drift() == []


def test_the_migrated_schema_matches_the_models(fresh_database_url):
    with migrated_app(fresh_database_url("drift")):
        upgrade()
        assert schema_drift() == []


def _template(key: str, version: int, status: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"key": key, "version": version, "status": status, "name": f"{key} v{version}", "description": "",
            "category": "mentorship", "config_schema": {"type": "object"}, "default_config": {}, "ui_schema": None,
            "tags": [], "sdg_goals": [], "created_at": now, "updated_at": now, "lock_version": 1}


def test_the_partial_unique_indexes_exist_on_the_migrated_database(fresh_database_url):
    templates = ProgramTemplate.__table__
    with migrated_app(fresh_database_url("partial")):
        upgrade()
        indexes = {ix["name"]: ix for ix in sa.inspect(db.engine).get_indexes("program_templates")}
        for name in ("uq_program_templates_one_draft", "uq_program_templates_one_active"):
            assert indexes[name]["unique"], name
            assert indexes[name]["column_names"] == ["key"], name

        def add(connection: sa.Connection, version: int, status: str, key: str = "lineage") -> None:
            connection.execute(sa.insert(templates).values(**_template(key, version, status)))

        def refused(connection: sa.Connection, version: int, status: str, index: str) -> None:
            sqlite_says = r"UNIQUE constraint failed: program_templates\.key(?![,\w])"
            with pytest.raises(IntegrityError, match=rf"\b{index}\b|{sqlite_says}"):
                with connection.begin_nested():
                    add(connection, version, status)

        with db.engine.connect() as connection, connection.begin() as outer:
            add(connection, 1, "deprecated")
            add(connection, 2, "deprecated")  # any number of deprecated versions
            add(connection, 3, "archived")
            add(connection, 4, "archived")  # and of archived ones
            add(connection, 5, "active")
            add(connection, 6, "draft")  # one active + one draft of one key
            refused(connection, 7, "draft", "uq_program_templates_one_draft")
            refused(connection, 7, "active", "uq_program_templates_one_active")
            add(connection, 1, "draft", key="another-lineage")  # the indexes are per key
            add(connection, 1, "active", key="a-third-lineage")
            assert connection.scalar(sa.select(sa.func.count()).select_from(templates)) == 8
            outer.rollback()
