#!/usr/bin/env python3
"""An example connector for the Impact Programs Portal's JSON API (SPEC §4.2), using only
the standard library: it enrolls a participant in a campaign and records one session for
them, and running it again adds nothing.

Two mechanisms make it safe to re-run (or to retry after a timeout):

* Every POST carries an ``Idempotency-Key`` derived from *what* it sends (the campaign and
  the participant's external reference; the session's id), so a retry within 24 hours gets
  the first answer back (``Idempotent-Replayed: true``) instead of doing it twice.
* The session carries ``source_id`` (your system's id for it): the portal keeps it unique per
  source and enrollment, so even with a new key a re-sent session is answered with the one
  already recorded (200, not 201). An enrollment that exists already (a run after the keys
  expired) is found again by its external reference.

Usage (a token with the scopes read, enrollments:write and deliveries:write; a program
manager's for beneficiaries, or a company admin's for its own employees as volunteers)::

    PORTAL_TOKEN=ipp_… python examples/connector.py --base-url https://portal.example.org \\
        --campaign 12 --name "Olena K." --email olena@example.org --external-ref kintell-4711 \\
        --year-of-birth 1990 --languages uk,en --session-id kintell-session-99 --minutes 60

It prints one JSON line saying what happened.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

# Keys are UUIDs derived from the content, under this connector's own namespace.
NAMESPACE = uuid.UUID("6f1d7c1e-3b7a-4c55-9d2e-0a8c1f4b2e11")
RETRIES = 4


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]):
        super().__init__(f"{status}: {problem.get('detail') or problem}")
        self.status, self.problem = status, problem


class Portal:
    """A tiny client: bearer token, JSON in and out, problem documents as ApiError, and
    retries (same key, so never twice) on 429/503 and dropped connections."""

    def __init__(self, base_url: str, token: str, timeout: float = 30):
        self.base = base_url.rstrip("/") + "/api/v1"
        self.token, self.timeout = token, timeout

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = None,
             if_match: str | None = None) -> tuple[int, dict[str, str], Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        if if_match is not None:
            headers["If-Match"] = if_match
        for attempt in range(RETRIES):
            request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, dict(response.headers), json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                payload = exc.read()
                if exc.code in (429, 503) and attempt < RETRIES - 1:
                    time.sleep(min(float(exc.headers.get("Retry-After") or 1), 30))
                    continue
                try:
                    problem = json.loads(payload or b"{}")
                except ValueError:
                    problem = {"detail": payload[:200].decode(errors="replace")}
                raise ApiError(exc.code, problem) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt == RETRIES - 1:
                    raise
                time.sleep(2 ** attempt)  # the same key goes again: the portal does it at most once
        raise AssertionError("unreachable")


def derived_key(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def find_enrollment(portal: Portal, campaign_id: int, external_ref: str) -> dict[str, Any] | None:
    """The campaign's enrollment of the participant with this external reference (a real
    connector keeps its own mapping; this walks the list, page by page)."""
    cursor = None
    while True:
        path = f"/campaigns/{campaign_id}/enrollments?limit=200" + (f"&cursor={cursor}" if cursor else "")
        _, _, page = portal.call("GET", path)
        for item in page["items"]:
            if item["participant"].get("external_ref") == external_ref:
                return item
        cursor = page["next_cursor"]
        if not cursor:
            return None


def enroll(portal: Portal, args: argparse.Namespace, fresh_keys: bool) -> tuple[dict[str, Any], str]:
    person = {"display_name": args.name, "email": args.email, "external_ref": args.external_ref,
              "languages": [code for code in args.languages.split(",") if code]}
    if args.year_of_birth:
        person["year_of_birth"] = args.year_of_birth
    key = str(uuid.uuid4()) if fresh_keys else derived_key("enroll", args.campaign, args.external_ref)
    try:
        status, headers, enrollment = portal.call("POST", f"/campaigns/{args.campaign}/enrollments",
                                                  {"role": args.role, "participant": person}, key=key)
    except ApiError as exc:
        if exc.status == 409 and "already enrolled" in str(exc.problem.get("detail", "")):
            found = find_enrollment(portal, args.campaign, args.external_ref)
            if found is not None:
                return found, "existing"
        raise
    return enrollment, "replayed" if headers.get("Idempotent-Replayed") == "true" else "created"


def record_session(portal: Portal, args: argparse.Namespace, enrollment_id: int,
                   fresh_keys: bool) -> tuple[dict[str, Any], str]:
    body: dict[str, Any] = {"kind": args.kind, "occurred_on": args.date, "source_id": args.session_id,
                            "source": args.source}
    if args.minutes is not None:
        body["duration_minutes"] = args.minutes
    if args.attendance:
        body["attendance"] = args.attendance
    key = str(uuid.uuid4()) if fresh_keys else derived_key("delivery", args.source, args.session_id)
    status, headers, delivery = portal.call("POST", f"/enrollments/{enrollment_id}/deliveries", body, key=key)
    if headers.get("Idempotent-Replayed") == "true":
        return delivery, "replayed"
    return delivery, "recorded" if status == 201 else "already recorded"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("PORTAL_URL", "http://127.0.0.1:5000"))
    parser.add_argument("--token", default=os.environ.get("PORTAL_TOKEN"), help="or PORTAL_TOKEN")
    parser.add_argument("--campaign", type=int, required=True)
    parser.add_argument("--role", default="beneficiary", choices=["beneficiary", "volunteer"])
    parser.add_argument("--name", required=True)
    parser.add_argument("--email")
    parser.add_argument("--external-ref", required=True, help="your system's id of the person")
    parser.add_argument("--year-of-birth", type=int)
    parser.add_argument("--languages", default="", help="ISO 639-1 codes, comma-separated")
    parser.add_argument("--session-id", required=True, help="your system's id of the session (source_id)")
    parser.add_argument("--source", default="api", choices=["api", "kintell", "buddy", "upskilling"])
    parser.add_argument("--kind", default="session_completed")
    parser.add_argument("--date", default=datetime.now(UTC).date().isoformat())
    parser.add_argument("--minutes", type=int)
    parser.add_argument("--attendance", choices=["present", "excused", "unexcused"])
    parser.add_argument("--fresh-keys", action="store_true",
                        help="new Idempotency-Keys (as after 24 hours): source_id alone keeps it from adding twice")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set PORTAL_TOKEN")
    portal = Portal(args.base_url, args.token)
    try:
        enrollment, enrolled = enroll(portal, args, args.fresh_keys)
        delivery, recorded = record_session(portal, args, enrollment["id"], args.fresh_keys)
    except ApiError as exc:
        print(json.dumps({"error": exc.status, "problem": exc.problem}), file=sys.stderr)
        return 1
    print(json.dumps({"enrollment_id": enrollment["id"], "enrollment": enrolled,
                      "delivery_id": delivery["id"], "delivery": recorded}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
