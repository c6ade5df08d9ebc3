"""Identifiers for interchange: our framework ids from foreign codes, CASE UUIDs from ours.

Two directions, both deterministic so that files in git do not churn:

* importing, a publisher's code (``CCSS.Math.Content.6.RP.A.1``) or identifier becomes an id
  matching our pattern, de-duplicated in document order (``X``, ``X-2``, ``X-3``);
* exporting, an object without a CASE identifier gets a UUID version 5 derived from the
  framework's namespace and the object's own id, so exporting twice gives the same package.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ID_MAX_LENGTH = 120
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_UUID_ANY_CASE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                            r"[0-9a-fA-F]{12}$")
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")
#: The namespace of namespaces: a framework without one gets uuid5(this, its id).
MASTERY_NAMESPACE = uuid.UUID("5b0d2f7e-6a43-5c1e-9d3a-6f1d2b7c8e90")


def is_uuid(value: object) -> bool:
    """A lower-case 8-4-4-4-12 UUID, the only form CASE 1.1 accepts."""
    return isinstance(value, str) and bool(_UUID.match(value))


def is_uuid_any_case(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID_ANY_CASE.match(value))


def sanitize_id(value: str) -> str:
    """``value`` made to fit our id pattern, or "" when nothing usable is left."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = _NOT_ID.sub("-", folded.strip())
    cleaned = re.sub(r"-{2,}", "-", cleaned).lstrip("._-").rstrip("-")
    return cleaned[:ID_MAX_LENGTH].rstrip("._-")


def slug_of_identifier(identifier: str) -> str:
    """A readable id from an identifier: the last segment of a URL, else the whole value."""
    tail = identifier.rstrip("/").rsplit("/", 1)[-1] if "/" in identifier else identifier
    return sanitize_id(tail) or sanitize_id(identifier)


def slug(text: str, *, max_length: int = 60) -> str:
    """A lower-case id from a title: ``What Standards Could Be`` -> ``what-standards-could-be``."""
    cleaned = sanitize_id(text.lower().replace(".", "-").replace("_", "-"))
    return cleaned[:max_length].rstrip("._-")


class IdAllocator:
    """Hands out unique ids in call order; a taken id gets ``-2``, ``-3``… appended."""

    def __init__(self, taken: set[str] | None = None):
        self.taken: set[str] = set(taken or ())

    def claim(self, wanted: str, fallback: str) -> str:
        base = sanitize_id(wanted) or sanitize_id(fallback) or "item"
        candidate, number = base, 2
        while candidate.casefold() in self.taken:
            suffix = f"-{number}"
            candidate = base[: ID_MAX_LENGTH - len(suffix)] + suffix
            number += 1
        self.taken.add(candidate.casefold())
        return candidate


def namespace_for(framework_id: str, declared: str | None) -> uuid.UUID:
    """The framework's declared namespace, else one derived from its id (still stable)."""
    if declared and is_uuid_any_case(declared):
        return uuid.UUID(declared)
    return uuid.uuid5(MASTERY_NAMESPACE, framework_id)


def stable_uuid(namespace: uuid.UUID, *parts: str) -> str:
    """UUID version 5 of ``parts`` joined by '/', in the framework's namespace."""
    return str(uuid.uuid5(namespace, "/".join(parts)))


def namespace_from_identifier(identifier: str) -> str:
    """A namespace for an imported framework: its document's UUID, or a UUID 5 of a non-UUID."""
    if is_uuid_any_case(identifier):
        return identifier.lower()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, identifier))


_DATE_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
    r"(Z|z|[+-]\d{2}:?\d{2})?$"
)


def normalize_date_time(value: str) -> tuple[str | None, bool]:
    """An RFC 3339 date-time (with zone) for ``value`` and whether it had to be changed.

    A time without a zone is read as UTC, as OpenSALT meant it; a bare date becomes midnight
    UTC. Returns (None, True) when the value cannot be read as a date-time.
    """
    match = _DATE_TIME.match(value.strip())
    if match is None:
        if re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
            return f"{value.strip()}T00:00:00+00:00", True
        return None, True
    date, time, zone = match.groups()
    if time.count(":") == 1:
        time += ":00"
    if zone is None:
        zone = "+00:00"
    elif zone in ("z", "Z"):
        zone = "Z"
    elif ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    try:
        datetime.fromisoformat(f"{date}T{time}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return None, True
    normalized = f"{date}T{time}{zone}"
    return normalized, normalized != value


def timestamp_from_epoch(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
