"""Who is looking: the signed-in account's role and district scope.

Until accounts land, every visitor is an unscoped administrator; pages already
ask for `current_scope()` so that scope applies everywhere once it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.scope import EVERYTHING, Scope

ROLES = ("screen", "leader", "staff", "admin")


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    scope: Scope


def current_viewer() -> Viewer:
    return Viewer(name="admin", role="admin", scope=EVERYTHING)


def current_scope() -> Scope:
    return current_viewer().scope
