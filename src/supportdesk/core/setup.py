"""First-run setup used by `supportdesk init` and the demo."""

from __future__ import annotations

from supportdesk.accounts import actions
from supportdesk.accounts.models import User


def ensure_supervisor(*, email: str, password: str, name: str = "") -> bool:
    """Create a supervisor with this email unless a user with it exists; True when created."""
    _, created = actions.ensure_staff_user(
        email=email, name=name or "Supervisor", role=User.Role.SUPERVISOR, password=password
    )
    return created
