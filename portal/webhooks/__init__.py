"""Webhooks (SPEC §4.2): program managers register HTTPS endpoints that receive the
portal's activity events as signed POSTs.

- ``models``: endpoints, deliveries (one per event per subscribed endpoint) and attempts.
- ``events``: which activity event types can be subscribed to, and the payload of one
  event (ids, references and figures only: no one's name leaves the portal).
- ``addresses``: the URL rule (HTTPS, public addresses only; every resolved address is
  checked at registration and again before each attempt).
- ``signing``: Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature: v1,<base64 HMAC-SHA256>``) through the ``standardwebhooks`` package.
- ``schedule``: the retry schedule (exponential backoff for 24 h), a pure function.
- ``fanout``: an activity event of a subscribed type writes its deliveries in the event's own
  transaction, and that transaction also records the job that sends them.
- ``delivery``: the job task (first attempt) and the retry sweep (later attempts).
- ``operations``, ``forms``, ``views``: the screens' rules and handlers.
"""
