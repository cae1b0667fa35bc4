"""Who may do what: one check every API route and page goes through.

For now the caller is always the guest and the policy allows everything; the
permission framework replaces `Identity` resolution and the policy, not the routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from greenroom.errors import NotAllowedError


@dataclass(frozen=True, slots=True)
class Permission:
    """A named action, such as `catalog.entity.read`."""

    name: str
    action: str  # read | create | update | delete


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller: a user entity ref and the refs it may act as (its groups)."""

    user_entity_ref: str
    ownership_entity_refs: tuple[str, ...] = field(default_factory=tuple)


GUEST = Identity("user:default/guest", ("user:default/guest",))


class PermissionPolicy(Protocol):
    def allows(self, identity: Identity, permission: Permission) -> bool: ...


class AllowAllPolicy:
    """Every caller may do everything (the default until the permission framework lands)."""

    def allows(self, identity: Identity, permission: Permission) -> bool:
        return True


class Permissions:
    """The one place a decision is made."""

    def __init__(self, policy: PermissionPolicy | None = None) -> None:
        self.policy = policy or AllowAllPolicy()

    def authorize(self, identity: Identity, permission: Permission) -> None:
        if not self.policy.allows(identity, permission):
            raise NotAllowedError(f"{identity.user_entity_ref} is not allowed to {permission.name}")


# The catalog's permissions, named as in Backstage.
CATALOG_ENTITY_READ = Permission("catalog.entity.read", "read")
CATALOG_ENTITY_DELETE = Permission("catalog.entity.delete", "delete")
CATALOG_ENTITY_REFRESH = Permission("catalog.entity.refresh", "update")
CATALOG_ENTITY_VALIDATE = Permission("catalog.entity.validate", "read")
CATALOG_LOCATION_READ = Permission("catalog.location.read", "read")
CATALOG_LOCATION_CREATE = Permission("catalog.location.create", "create")
CATALOG_LOCATION_UPDATE = Permission("catalog.location.update", "update")
CATALOG_LOCATION_DELETE = Permission("catalog.location.delete", "delete")
CATALOG_LOCATION_ANALYZE = Permission("catalog.location.analyze", "read")
