"""Who is calling, and the permission check every route declares."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from greenroom.permissions import GUEST, Identity, Permission, Permissions

PERMISSION_EXTRA = "x-greenroom-permission"


def caller(request: Request) -> Identity:
    """The caller's identity. Until sign-in lands, everyone is the guest."""
    return GUEST


def require(permission: Permission) -> Callable[..., Identity]:
    """A dependency that authorizes the caller for `permission` and returns the identity."""

    def check(request: Request, identity: Identity = Depends(caller)) -> Identity:
        permissions: Permissions = request.app.state.permissions
        permissions.authorize(identity, permission)
        return identity

    return check
