"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``. Configure through the
environment (PORTAL_ENV, SECRET_KEY, DATABASE_URL)."""
import gc

from portal import create_app

app = create_app()
# What the app built at start lives as long as the process: moved out of the collector's way, a
# full collection walks only what requests made (a company report's was 100 ms every fourth
# request with the app's objects in the heap, a few ms without).
gc.collect()
gc.freeze()
