"""ETag / If-Match (SPEC §4.2): a resource's ETag is its version (``lock_version``, which
every change moves). Updates and transitions need ``If-Match`` with the ETag the client
last saw: 428 without it, 412 when the resource has changed since."""
from __future__ import annotations

from flask import request

from portal.api.problems import ApiProblem, header_error
from portal.i18n import _, _l

# What changed under the client, as a whole sentence per kind of resource (check_version's ``what``).
CHANGED_SINCE_READ = {
    "enrollment": _l("The enrollment has changed since you read it (it is now version %(version)s). GET it again, "
                     "check, and retry with the new ETag."),
    "delivery": _l("The delivery has changed since you read it (it is now version %(version)s). GET it again, "
                   "check, and retry with the new ETag."),
    "match": _l("The match has changed since you read it (it is now version %(version)s). GET it again, check, "
                "and retry with the new ETag."),
    "campaign": _l("The campaign has changed since you read it (it is now version %(version)s). GET it again, "
                   "check, and retry with the new ETag."),
}


def etag_of(version: int) -> str:
    return f'"{version}"'


def if_match_versions() -> list[int]:
    """The versions If-Match names, or ApiProblem 428 when it names none (missing, or ``*``,
    which would skip the very check it is for)."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw or raw == "*":
        raise ApiProblem(428, _("Send If-Match with the ETag you last read (GET the resource first)."),
                         errors=[header_error("If-Match", _('Required: the resource\'s ETag, e.g. "3".'))])
    versions = []
    for tag in raw.split(","):
        text = tag.strip().strip('"')
        if not text.isdigit() or len(text) > 10:
            raise ApiProblem(412, _("If-Match does not name a version of this resource."),
                             errors=[header_error("If-Match", _('Use the ETag as given, e.g. "3".'))])
        versions.append(int(text))
    return versions


def check_version(current: int, what: str) -> None:
    """412 unless If-Match names ``current`` (call it with the row locked for update).
    ``what``: a key of CHANGED_SINCE_READ ("enrollment", "delivery", "match", "campaign")."""
    if current not in if_match_versions():
        raise ApiProblem(412, str(CHANGED_SINCE_READ[what]) % {"version": current},
                         headers={"ETag": etag_of(current)})
