"""Who is calling: a clinic, through an API key (or, later, a signed-in user)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from ...errors import ForbiddenError, NotFoundError
from ..models import Role


class ClinicOwned(Protocol):
    clinic_id: str


Owned = TypeVar("Owned", bound=ClinicOwned)


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


def owned(db: Session, model: type[Owned], object_id: str, caller: Caller, what: str) -> Owned:
    """The caller's clinic's ``model`` row; another clinic's or an unknown id is 404 alike."""
    found = db.get(model, object_id)
    if found is None or found.clinic_id != caller.clinic_id:
        raise NotFoundError(f"no {what} {object_id}")
    return found
