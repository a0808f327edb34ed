"""API endpoints, one module per area; importing this package registers them on the
blueprint. Later areas (deliveries, matches, impact, activity feed, webhooks) add a module
here and an import below."""
from portal.api.endpoints import campaigns, deliveries, enrollments, events, impact, matches, meta, reading  # noqa: F401
