"""The console's three roles and which parts of it each may open."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "caseworker"  # the union's legal-aid staff: the inbox
    CURATOR = "curator"  # keeps the knowledge base right: the review queue, hit testing
    ADMIN = "admin"  # everything, and the audit log


ROLE_LABELS: Mapping[Role, str] = {
    Role.CASEWORKER: "法律援助工作人员",
    Role.CURATOR: "知识库审核员",
    Role.ADMIN: "管理员",
}

EVERYONE = frozenset(Role)
CASEWORK = frozenset({Role.CASEWORKER, Role.ADMIN})
CURATION = frozenset({Role.CURATOR, Role.ADMIN})
FIGURES = frozenset({Role.CURATOR, Role.ADMIN})
AUDIT = frozenset({Role.ADMIN})


def landing_page(role: Role) -> str:
    """Where each role starts after signing in."""
    return "/console/review" if role == Role.CURATOR else "/console/cases"
