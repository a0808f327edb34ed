"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``. Configure through the
environment (PORTAL_ENV, SECRET_KEY, DATABASE_URL)."""
from portal import create_app

app = create_app()
