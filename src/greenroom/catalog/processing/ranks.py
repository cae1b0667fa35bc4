"""In which order due entities are claimed.

Relations are stitched onto both ends, so when a component is processed after
the team that owns it, the team must be stitched again. Processing the kinds
that refer to others before the kinds they refer to (users before groups,
components before APIs and systems) means that on a first load most entities
are stitched once, with all their relations already there.
"""

from __future__ import annotations

# Locations read files and emit everything else: first, and claimed one at a time so
# several workers share them.
LOCATION_RANK = 0
_RANKS = {
    "user": 1,
    "template": 2,
    "component": 3,
    "api": 4,
    "resource": 5,
    "system": 6,
    "domain": 7,
    "group": 8,
}
OTHER_RANK = 5
RANKS = (LOCATION_RANK, *sorted(set(_RANKS.values())))


def claim_rank(kind: object) -> int:
    if not isinstance(kind, str):
        return OTHER_RANK
    kind = kind.lower()
    if kind == "location":
        return LOCATION_RANK
    return _RANKS.get(kind, OTHER_RANK)
