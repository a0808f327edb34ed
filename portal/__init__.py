"""Impact Programs Portal: the application factory."""
from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Flask

from portal.config import config_for, secret_key_problem
from portal.i18n import _lp

ROOT = Path(__file__).resolve().parent.parent

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
    "base-uri": "'none'",
}


def create_app(env_name: str | None = None, **overrides: Any) -> Flask:
    # APIFlask is Flask plus the OpenAPI document of the API blueprint (portal.api); the HTML
    # blueprints are plain Flask blueprints it leaves alone, and json_errors=False keeps the
    # HTML error pages. No built-in spec or docs routes: portal.api serves both under /api/v1.
    app = APIFlask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        json_errors=False,
        spec_path=None,
        docs_path=None,
    )
    config = config_for(env_name)
    app.config.from_object(config)
    app.config.update(overrides)
    if app.config["ENV_NAME"] == "production" and (problem := secret_key_problem(app.config.get("SECRET_KEY"))):
        raise RuntimeError(
            f"{problem} Set a long random SECRET_KEY "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))') before starting in production."
        )
    from portal.db import engine_options

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    _trust_proxies(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _bound_integer_urls(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    from portal.web import register_error_handlers, register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)

    from portal.cli import register_cli

    register_cli(app)
    _prepare_for_first_requests(app)
    if app.config["PORTAL_JOBS_EMBEDDED_WORKER"]:
        from portal.jobs.queue import embed_worker

        embed_worker(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (complete metadata before Alembic looks)
    from portal.auth.operations import load_user_from_cookie
    from portal.enrollments import waitlist  # noqa: F401  (promotes the waitlist when a campaign frees seats)
    from portal.extensions import csrf, db, limiter, login_manager, migrate, talisman
    from portal.web import unauthorized

    db.init_app(app)
    from portal import i18n

    i18n.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_from_cookie)
    login_manager.unauthorized_handler(unauthorized)
    talisman.init_app(
        app,
        content_security_policy=CSP,
        force_https=app.config["FORCE_HTTPS"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )


def _prepare_for_first_requests(app: Flask) -> None:
    """Do at start what would otherwise make each worker's first visit of a screen slow
    (measured with ``python -m bench pages``: compiling a screen's Jinja templates was 60–80 %
    of a cold request, configuring the ORM mappers ~50 ms of the first one, reading
    pycountry's language list ~30 ms).

    Compiled templates are kept as bytecode in ``instance/jinja-cache`` (keyed by each
    template's source checksum, so an edited template is recompiled;
    ``PORTAL_TEMPLATE_BYTECODE_CACHE`` = False turns it off, a path puts it elsewhere). With ``PORTAL_WARM_START``
    (on except in tests, whose app per test renders a few screens only) every template is
    loaded, the mappers configured and the reference lists read here, once per worker, and
    what start-up made is frozen out of the garbage collector's full passes."""
    cache_setting = app.config.get("PORTAL_TEMPLATE_BYTECODE_CACHE", True)
    if cache_setting:
        from jinja2 import FileSystemBytecodeCache

        cache_dir = Path(app.instance_path) / "jinja-cache" if cache_setting is True else Path(cache_setting)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only instance folder: compile in memory as before
            pass
        else:
            if os.access(cache_dir, os.W_OK):
                app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(cache_dir))
    if app.config.get("PORTAL_WARM_START", not app.testing):
        import sqlalchemy.orm

        from portal import reference

        sqlalchemy.orm.configure_mappers()
        reference.countries(), reference.languages(), reference.currencies()  # pycountry loads its files lazily
        env = app.jinja_env
        for name in env.list_templates(extensions=("html",)):
            env.get_template(name)
        # What start-up made lives as long as the worker: keep it out of the cyclic collector,
        # whose full passes over it paused a request now and then by up to ~100 ms.
        gc.collect()
        gc.freeze()


def _trust_proxies(app: Flask) -> None:
    """Behind PORTAL_TRUSTED_PROXIES proxies, take the client's address and scheme from the
    X-Forwarded-For/-Proto entries those proxies appended (the per-address sign-in limit needs
    the real client). With 0 the headers are ignored: anyone can send them."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _bound_integer_urls(app: Flask) -> None:
    """``<int:…>`` URL parts stay inside the database's integer range, so an absurd id is a
    404 like any missing one instead of an overflow deep in the driver."""
    from werkzeug.routing import IntegerConverter

    class DatabaseId(IntegerConverter):
        def __init__(self, url_map, *args, **kwargs):  # noqa: ANN001
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseId


def _register_blueprints(app: Flask) -> None:
    from portal.activity.views import bp as activity_bp
    from portal.auth.views import admin_bp, auth_bp
    from portal.beneficiaries.views import bp as groups_bp
    from portal.campaigns.views import bp as campaigns_bp
    from portal.catalog.views import bp as catalog_bp
    from portal.dashboard.views import bp as dashboard_bp
    from portal.deliveries.import_views import bp as delivery_imports_bp
    from portal.deliveries.views import bp as deliveries_bp
    from portal.enrollments.enrollment_views import bp as enrollments_bp
    from portal.enrollments.import_views import bp as imports_bp
    from portal.enrollments.participant_views import bp as participants_bp
    from portal.impact.views import bp as impact_bp
    from portal.jobs.views import bp as jobs_bp
    from portal.l2i.views import bp as l2i_bp
    from portal.matches.views import bp as matches_bp
    from portal.privacy.views import bp as privacy_bp
    from portal.program_templates.views import bp as templates_bp
    from portal.programs.views import bp as programs_bp
    from portal.reports.views import bp as reports_bp
    from portal.reports.views import shared_bp as shared_reports_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(templates_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(programs_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(enrollments_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(participants_bp)
    app.register_blueprint(activity_bp)
    app.register_blueprint(l2i_bp)
    app.register_blueprint(matches_bp)
    app.register_blueprint(deliveries_bp)
    app.register_blueprint(delivery_imports_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(shared_reports_bp)
    app.register_blueprint(impact_bp)
    from portal.tokens.views import bp as tokens_bp

    app.register_blueprint(tokens_bp)
    from portal.webhooks.views import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    from portal.api import init_app as init_api

    init_api(app)
    app.register_blueprint(privacy_bp)


# Navigation: (endpoint, label, roles). Shown only when the endpoint exists and the role may use it.
NAVIGATION = [
    ("dashboard.home", _lp("navigation", "Home"), ("program_manager", "company_admin")),
    ("program_templates.index", _lp("navigation", "Templates"), ("program_manager",)),
    ("beneficiaries.index", _lp("navigation", "Beneficiary groups"), ("program_manager",)),
    ("programs.index", _lp("navigation", "Programs"), ("program_manager",)),
    ("impact.sets", _lp("navigation", "Valuation sets"), ("program_manager",)),
    ("catalog.index", _lp("navigation", "Catalog"), ("program_manager", "company_admin")),
    ("campaigns.index", _lp("navigation", "Campaigns"), ("program_manager", "company_admin")),
    ("participants.index", _lp("navigation", "Participants"), ("program_manager",)),
    ("privacy.index", _lp("navigation", "Privacy"), ("program_manager",)),
    ("l2i.index", _lp("navigation", "L2I"), ("program_manager", "company_admin")),
    ("activity.index", _lp("navigation", "Activity"), ("program_manager", "company_admin")),
    ("admin.index", _lp("navigation", "Users & companies"), ("program_manager",)),
]


def _register_template_helpers(app: Flask) -> None:
    from flask import request, url_for
    from flask_login import current_user

    from portal import reference

    nav_urls: dict[tuple[str, str], str] = {}  # a link of the menu depends only on where the app is mounted

    @app.context_processor
    def navigation() -> dict[str, Any]:
        items = []
        if current_user.is_authenticated:
            for endpoint, label, roles in NAVIGATION:
                if current_user.role in roles and endpoint in app.view_functions:
                    section = endpoint.split(".")[0]
                    current = request.endpoint == endpoint or (
                        request.blueprint == section and endpoint.endswith(".index")
                    )
                    if (url := nav_urls.get((endpoint, request.script_root))) is None:
                        url = nav_urls[(endpoint, request.script_root)] = url_for(endpoint)
                    items.append({"endpoint": endpoint, "url": url, "label": str(label), "current": current})
        return {"nav_items": items}

    app.jinja_env.filters["country_name"] = reference.country_name
    app.jinja_env.filters["language_name"] = reference.language_name
    app.jinja_env.filters["sdg_title"] = reference.sdg_title  # templates/_sdg.html

    from portal.beneficiaries.privacy import cohort_figure

    # {{ count|cohort }}: aggregates about a group, k-suppressed below PORTAL_MIN_COHORT.
    app.jinja_env.filters["cohort"] = lambda n: cohort_figure(n, app.config["PORTAL_MIN_COHORT"])
