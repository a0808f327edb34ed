"""In-process page and save timings on the seeded demo database (SQLite).

Every main screen is timed for the role that uses it, twice:

- ``cold: …`` — the first request a fresh process answers (a new worker's first visit of
  that screen: template compilation, first queries, schema compilation, lazy imports).
  Child processes on their own copy of the database, so nothing earlier warmed them; the
  app starts as a worker does (``PORTAL_WARM_START``), and what it does at start is the
  ``startup: …`` figures.
- ``page: … p50/p95`` — the same screen again and again in one warm process.

Saves (publish, new version, template details, group, campaign edit, program transition, a
delivery recorded on an enrollment's page) post the form the screen itself renders (fields read from its HTML, CSRF token included),
so they send what a browser would. Targets: 150 ms per page, 300 ms per save.

``python -m bench pages``; ``PORTAL_BENCH_REPEAT`` sets the warm repetitions (default 60),
``PORTAL_BENCH_COLD_RUNS`` the fresh processes per cold figure (default 3, the median is
reported) and ``PORTAL_BENCH_COLD=0`` skips the cold children.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from werkzeug.datastructures import MultiDict

from bench.harness import Report, time_ms

PAGE_TARGET, SAVE_TARGET = 150, 300
# The first five figures predate the rest and keep their names and tighter warm targets.
WARM_TARGETS = {"page: home (program manager)": 25, "page: home (company admin)": 25, "page: campaign list": 25,
                "page: campaign detail": 25, "page: users & companies": 25}
ROOT = Path(__file__).resolve().parent.parent


# --- reading a form back out of a page ------------------------------------------------
class _Forms(HTMLParser):
    """The fields every <form> on a page would submit (no button pressed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: tuple[str, bool] | None = None
        self._select_options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": []}
            self.forms.append(self._form)
        if self._form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append((name, a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and name:
            self._select, self._select_options = (name, "multiple" in a), []
        elif tag == "option" and self._select is not None:
            self._select_options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple = self._select
            chosen = [v for v, selected in self._select_options if selected]
            if not chosen and not multiple and self._select_options:
                chosen = [self._select_options[0][0]]
            self._form["fields"] += [(name, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._text)
            self._form["fields"].append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def form_on(client, page: str, action_suffix: str, **changes: str) -> tuple[str, list[tuple[str, str]]]:
    """(action, fields) of the first form on ``page`` posting to an action ending with
    ``action_suffix``, with ``changes`` applied."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    for form in parser.forms:
        if form["method"] == "post" and form["action"].split("?")[0].endswith(action_suffix):
            fields = [(k, v) for k, v in form["fields"] if k not in changes]
            return form["action"], fields + list(changes.items())
    raise AssertionError(f"no form posting to …{action_suffix} on {page}")


# --- the world ------------------------------------------------------------------------
@dataclass
class World:
    app: object
    db_file: Path
    pm_id: int
    admin_id: int
    ids: dict


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy, whatever the WAL holds."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _make_app(db_file: Path, **overrides):
    """The testing configuration, but started as a worker would (PORTAL_WARM_START); extra
    settings as JSON in PORTAL_BENCH_CONFIG (e.g. '{"PORTAL_WARM_START": false}' to compare)."""
    from portal import create_app

    settings = {"RATELIMIT_ENABLED": False, "PORTAL_WARM_START": True,
                **json.loads(os.environ.get("PORTAL_BENCH_CONFIG") or "{}"), **overrides}
    return create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}", **settings)


def _client(app, user_id: int):
    import sqlalchemy as sa

    from portal.db import db
    from portal.models import User
    from tests.conftest import sign_in_client

    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.id == user_id)).one()
        return sign_in_client(app, user)


def _versions(app, key: str) -> list[tuple[int, str]]:
    """(version, status) of a template's versions, newest first."""
    import sqlalchemy as sa

    from portal.db import db
    from portal.models import ProgramTemplate

    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(ProgramTemplate.version, ProgramTemplate.status).where(ProgramTemplate.key == key)
            .order_by(ProgramTemplate.version.desc()))]


def _build_world(tmp: Path) -> World:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from portal.db import db
    from portal.models import (
        BeneficiaryGroup,
        Campaign,
        Enrollment,
        L2ISubscription,
        Participant,
        Program,
        ProgramTemplate,
        User,
        ValuationSet,
    )
    from portal.seed import seed_demo_data

    db_file = tmp / "bench.db"
    app = _make_app(db_file)
    with app.app_context():
        upgrade()
        seed_demo_data()
        pm = db.session.scalars(sa.select(User).where(User.role == "program_manager")).first()
        admin = db.session.scalars(sa.select(User).where(User.role == "company_admin")).first()
        campaign = db.session.scalars(sa.select(Campaign).where(Campaign.company_id == admin.company_id)
                                      .order_by(Campaign.id)).first()
        program = campaign.program
        public_program = db.session.scalars(sa.select(Program).where(Program.visibility == "public",
                                                                     Program.status == "active")
                                            .order_by(Program.id)).first()
        keys = sorted(db.session.scalars(sa.select(ProgramTemplate.key).distinct()))
        ids = {
            "campaign": campaign.id,
            "program": program.id,
            "public_program": public_program.id,
            "template": program.template.id,
            "page_key": program.template.key,
            "save_key": next(k for k in keys if k != program.template.key),
            "group": db.session.scalar(sa.select(BeneficiaryGroup.id).order_by(BeneficiaryGroup.id)),
            "participant": db.session.scalar(sa.select(Participant.id).order_by(Participant.id)),
            "enrollment": db.session.scalar(sa.select(Enrollment.id).where(Enrollment.campaign_id == campaign.id)
                                            .order_by(Enrollment.id)),
            "subscription": db.session.scalar(sa.select(L2ISubscription.id).order_by(L2ISubscription.id)),
            "transition_program": db.session.scalar(sa.select(Program.id).where(Program.status == "active")
                                                    .order_by(Program.id.desc())),
            "active_enrollment": db.session.scalar(sa.select(Enrollment.id).where(
                Enrollment.campaign_id == campaign.id, Enrollment.status == "active").order_by(Enrollment.id)),
            "company": admin.company_id,
            "valuation_set": db.session.scalar(sa.select(ValuationSet.id).order_by(ValuationSet.id)),
        }
        pm_id, admin_id = pm.id, admin.id
        db.session.remove()
    world = World(app, db_file, pm_id, admin_id, ids)
    # A draft of the page template, so "template edit" and "compare" have something to show.
    pm_client = _client(app, pm_id)
    key = ids["page_key"]
    active = next(v for v, s in _versions(app, key) if s == "active")
    action, fields = form_on(pm_client, f"/templates/{key}/v{active}", "/new-version")
    assert pm_client.post(action, data=MultiDict(fields)).status_code in (200, 303)
    ids["draft_version"] = next(v for v, s in _versions(app, key) if s == "draft")
    ids["active_version"] = active
    return world


def page_list(ids: dict) -> list[tuple[str, str, str]]:
    """(figure name, role, path). The first five keep their historic names."""
    c, key = ids["campaign"], ids["page_key"]
    pm, admin = "pm", "admin"
    return [
        ("page: home (program manager)", pm, "/home"),
        ("page: home (company admin)", admin, "/home"),
        ("page: campaign list", pm, "/campaigns/"),
        ("page: campaign detail", admin, f"/campaigns/{c}"),
        ("page: users & companies", pm, "/admin/"),
        ("page: templates list", pm, "/templates/"),
        ("page: template detail", pm, f"/templates/{key}"),
        ("page: template edit (draft)", pm, f"/templates/{key}/v{ids['draft_version']}/edit"),
        ("page: template compare", pm, f"/templates/{key}/compare"),
        ("page: template new", pm, "/templates/new"),
        ("page: groups list", pm, "/groups/"),
        ("page: group detail", pm, f"/groups/{ids['group']}"),
        ("page: group edit", pm, f"/groups/{ids['group']}/edit"),
        ("page: group new", pm, "/groups/new"),
        ("page: programs list", pm, "/programs/"),
        ("page: program detail", pm, f"/programs/{ids['program']}"),
        ("page: program config", pm, f"/programs/{ids['program']}/config"),
        ("page: launch wizard: template", pm, "/programs/new"),
        ("page: launch wizard: group", pm, f"/programs/new?template={ids['template']}"),
        ("page: launch wizard: details", pm, f"/programs/new?template={ids['template']}&group={ids['group']}"),
        ("page: catalog (program manager)", pm, "/catalog/"),
        ("page: catalog (company admin)", admin, "/catalog/"),
        ("page: catalog program (company admin)", admin, f"/catalog/{ids['public_program']}"),
        ("page: catalog program (program manager)", pm, f"/catalog/{ids['public_program']}"),
        ("page: campaign list (company admin)", admin, "/campaigns/"),
        ("page: campaign detail (program manager)", pm, f"/campaigns/{c}"),
        ("page: campaign edit (program manager)", pm, f"/campaigns/{c}/edit"),
        ("page: campaign edit (company admin)", admin, f"/campaigns/{c}/edit"),
        ("page: campaign config (program manager)", pm, f"/campaigns/{c}/config"),
        ("page: campaign config (company admin)", admin, f"/campaigns/{c}/config"),
        ("page: campaign new (company admin)", admin, "/campaigns/new"),
        ("page: enroll (program manager)", pm, f"/campaigns/{c}/enroll"),
        ("page: enroll (company admin)", admin, f"/campaigns/{c}/enroll"),
        ("page: enrollment detail", pm, f"/campaigns/{c}/enrollments/{ids['enrollment']}"),
        ("page: import (program manager)", pm, f"/campaigns/{c}/import"),
        ("page: participants list", pm, "/participants/"),
        ("page: participant detail", pm, f"/participants/{ids['participant']}"),
        ("page: participant edit", pm, f"/participants/{ids['participant']}/edit"),
        ("page: L2I list (program manager)", pm, "/l2i/"),
        ("page: L2I list (company admin)", admin, "/l2i/"),
        ("page: L2I detail (program manager)", pm, f"/l2i/{ids['subscription']}"),
        ("page: L2I detail (company admin)", admin, f"/l2i/{ids['subscription']}"),
        ("page: activity log (program manager)", pm, "/activity/"),
        ("page: activity log (company admin)", admin, "/activity/"),
        # Screens added since the first figures: progress, matches, deliveries, impact, reports,
        # valuation sets, webhooks, tokens, privacy.
        ("page: campaign progress (program manager)", pm, f"/campaigns/{c}/progress"),
        ("page: campaign progress (company admin)", admin, f"/campaigns/{c}/progress"),
        ("page: home progress (program manager)", pm, "/home/progress"),
        ("page: matches (program manager)", pm, f"/campaigns/{c}/matches"),
        ("page: matches (company admin)", admin, f"/campaigns/{c}/matches"),
        ("page: attendance sheet (program manager)", pm, f"/campaigns/{c}/attendance"),
        ("page: attendance sheet (company admin)", admin, f"/campaigns/{c}/attendance"),
        ("page: delivery import (program manager)", pm, f"/campaigns/{c}/deliveries/import"),
        ("page: campaign impact (program manager)", pm, f"/campaigns/{c}/impact"),
        ("page: campaign impact (company admin)", admin, f"/campaigns/{c}/impact"),
        ("page: campaign report (company admin)", admin, f"/reports/campaigns/{c}"),
        ("page: company report (company admin)", admin, f"/reports/companies/{ids['company']}"),
        ("page: valuation sets", pm, "/valuation-sets/"),
        ("page: valuation set detail", pm, f"/valuation-sets/{ids['valuation_set']}"),
        ("page: program valuation pin", pm, f"/programs/{ids['program']}/valuation"),
        ("page: webhooks (program manager)", pm, "/webhooks/"),
        ("page: access tokens (company admin)", admin, "/account/tokens/"),
        ("page: privacy (program manager)", pm, "/privacy/"),
        ("page: privacy participant (program manager)", pm, f"/privacy/participants/{ids['participant']}"),
    ]


# --- saves: each prepares its post (untimed) and returns it ---------------------------
Post = tuple[str, list[tuple[str, str]]]


def _ensure_draft(app, client, key: str) -> int:
    versions = _versions(app, key)
    if versions[0][1] != "draft":
        active = next(v for v, s in versions if s == "active")
        action, fields = form_on(client, f"/templates/{key}/v{active}", "/new-version")
        assert client.post(action, data=MultiDict(fields)).status_code == 303
        versions = _versions(app, key)
    return versions[0][0]


def _prepare_publish(world: World, client) -> Post:
    key = world.ids["save_key"]
    draft = _ensure_draft(world.app, client, key)
    action, fields = form_on(client, f"/templates/{key}/v{draft}", "/publish")
    return action, fields + [("confirmed", "yes")]


def _prepare_new_version(world: World, client) -> Post:
    key = world.ids["save_key"]
    versions = _versions(world.app, key)
    if versions[0][1] == "draft":
        action, fields = _prepare_publish(world, client)
        assert client.post(action, data=MultiDict(fields)).status_code == 303
        versions = _versions(world.app, key)
    active = next(v for v, s in versions if s == "active")
    return form_on(client, f"/templates/{key}/v{active}", "/new-version")


def _prepare_details(world: World, client) -> Post:
    key = world.ids["save_key"]
    draft = _ensure_draft(world.app, client, key)
    stamp = str(time.perf_counter_ns() % 1000)
    return form_on(client, f"/templates/{key}/v{draft}/edit", "/details", description=f"Bench edit {stamp}.")


def _prepare_group(world: World, client) -> Post:
    group = world.ids["group"]
    stamp = str(time.perf_counter_ns() % 1000)
    return form_on(client, f"/groups/{group}/edit", f"/groups/{group}/edit", region=f"Viken {stamp}")


def _prepare_campaign(world: World, client) -> Post:
    c = world.ids["campaign"]
    stamp = str(time.perf_counter_ns() % 1000)
    return form_on(client, f"/campaigns/{c}/edit", f"/campaigns/{c}/edit", internal_code=f"ACME-CSR-{stamp}")


def _prepare_transition(world: World, client) -> Post:
    import sqlalchemy as sa

    from portal.db import db
    from portal.models import Program

    program_id = world.ids["transition_program"]
    with world.app.app_context():
        status = db.session.scalar(sa.select(Program.status).where(Program.id == program_id))
    target = "paused" if status == "active" else "active"
    action, fields = form_on(client, f"/programs/{program_id}", "/status", target=target)
    return action, fields + [("confirmed", "yes")]


def _prepare_delivery(world: World, client) -> Post:
    from datetime import UTC, datetime

    c, e = world.ids["campaign"], world.ids["active_enrollment"]
    page = f"/campaigns/{c}/enrollments/{e}"
    kinds = re.search(r'<select[^>]*name="kind".*?</select>', client.get(page).get_data(as_text=True), re.S)
    kind = next(v for v in re.findall(r'<option value="([^"]*)"', kinds.group(0)) if v)  # the first kind offered
    return form_on(client, page, f"/enrollments/{e}/deliveries", kind=kind,
                   occurred_on=datetime.now(UTC).date().isoformat())


SAVES: list[tuple[str, Callable[[World, object], Post]]] = [
    ("save: template publish", _prepare_publish),
    ("save: template new version", _prepare_new_version),
    ("save: template details", _prepare_details),
    ("save: group", _prepare_group),
    ("save: campaign edit", _prepare_campaign),
    ("save: program transition", _prepare_transition),
    ("save: delivery recorded (program manager)", _prepare_delivery),
]
SAVE_OK = (200, 303)


# --- cold: one child process per figure -----------------------------------------------
def _cold(db_file: Path, user_id: int, method: str, path: str, data: list | None = None,
          cookie: str | None = None, **overrides) -> dict:
    """{"ms": the first request a fresh process answers, "start_ms": its app factory}. A post
    carries the session cookie of the client that read its form (its CSRF token belongs to
    that session)."""
    spec = json.dumps({"db": str(db_file), "user": user_id, "method": method, "path": path, "data": data,
                       "cookie": cookie, "overrides": overrides})
    out = subprocess.run([sys.executable, "-m", "bench.pages", spec], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"cold child failed for {method} {path}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cold_child(spec: dict) -> None:
    start = time.perf_counter()
    app = _make_app(Path(spec["db"]), **spec["overrides"])
    start_ms = (time.perf_counter() - start) * 1000
    if spec["cookie"]:
        client = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], spec["cookie"])
    else:
        client = _client(app, spec["user"])
    start = time.perf_counter()
    if spec["method"] == "GET":
        response = client.get(spec["path"])
        ok = response.status_code == 200
    else:
        response = client.post(spec["path"], data=MultiDict([tuple(f) for f in spec["data"]]))
        ok = response.status_code in SAVE_OK
    ms = (time.perf_counter() - start) * 1000
    if not ok:
        raise SystemExit(f"{spec['method']} {spec['path']} answered {response.status_code}")
    print(json.dumps({"ms": ms, "start_ms": start_ms}))


def _snapshot(world: World, tmp: Path, label: str) -> Path:
    copy = tmp / f"cold-{label}.db"
    _copy_database(world.db_file, copy)
    return copy


# --- the run --------------------------------------------------------------------------
def run(report: Report, repeat: int | None = None) -> None:
    repeat = repeat or int(os.environ.get("PORTAL_BENCH_REPEAT", "60"))
    cold = os.environ.get("PORTAL_BENCH_COLD", "1") != "0"
    cold_runs = int(os.environ.get("PORTAL_BENCH_COLD_RUNS", "3"))
    save_repeat = max(10, repeat // 3)
    tmp = Path(tempfile.mkdtemp())
    world = _build_world(tmp)
    users = {"pm": world.pm_id, "admin": world.admin_id}
    pages = page_list(world.ids)

    if cold:
        starts = []
        for name, role, path in pages:
            samples = []
            for _ in range(cold_runs):
                copy = _snapshot(world, tmp, "page")
                result = _cold(copy, users[role], "GET", path)
                samples.append(result["ms"])
                starts.append(result["start_ms"])
                copy.unlink()
            report.add(name.replace("page: ", "cold: ", 1), statistics.median(samples), PAGE_TARGET)
        pm_client = _client(world.app, world.pm_id)
        for name, prepare in SAVES:
            samples = []
            for _ in range(cold_runs):
                action, fields = prepare(world, pm_client)
                cookie = pm_client.get_cookie(world.app.config["SESSION_COOKIE_NAME"]).value
                copy = _snapshot(world, tmp, "save")
                samples.append(_cold(copy, world.pm_id, "POST", action, fields, cookie)["ms"])
                copy.unlink()
            report.add(name.replace("save: ", "cold save: ", 1), statistics.median(samples), SAVE_TARGET)
        report.add("startup: app factory (median of the cold processes)", statistics.median(starts), None)
        empty = []
        for _ in range(cold_runs):  # a worker on a fresh machine: nothing compiled yet
            copy = _snapshot(world, tmp, "page")
            empty.append(_cold(copy, world.pm_id, "GET", "/home",
                               PORTAL_TEMPLATE_BYTECODE_CACHE=tempfile.mkdtemp(dir=tmp))["start_ms"])
            copy.unlink()
        report.add("startup: app factory, empty template cache", statistics.median(empty), None)

    clients = {role: _client(world.app, user_id) for role, user_id in users.items()}

    def get(client, path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return call

    for name, role, path in pages:
        report.add_samples(name, time_ms(get(clients[role], path), repeat), WARM_TARGETS.get(name, PAGE_TARGET))

    pm_client = clients["pm"]
    for name, prepare in SAVES:
        samples = []
        for _ in range(save_repeat):
            action, fields = prepare(world, pm_client)
            start = time.perf_counter()
            response = pm_client.post(action, data=MultiDict(fields))
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code in SAVE_OK, (name, response.status_code, response.get_data(as_text=True)[:500])
        report.add_samples(name, samples, SAVE_TARGET)


if __name__ == "__main__":  # a cold child: python -m bench.pages '<spec json>'
    _cold_child(json.loads(sys.argv[1]))
