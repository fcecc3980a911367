"""Who is calling: a clinic, through an API key (or, later, a signed-in user)."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ForbiddenError
from ..models import Role


@dataclass(frozen=True)
class Caller:
    """The clinic a call acts for, who it is (for the audit log) and their role."""

    clinic_id: str
    actor: str
    role: Role

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(sorted(roles))
            raise ForbiddenError(f"this needs the role {allowed}; the key's role is {self.role}")


#: Roles that may change the clinic's profile and keys.
MANAGERS = (Role.ADMIN,)
