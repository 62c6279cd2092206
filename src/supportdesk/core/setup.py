"""First-run setup used by `supportdesk init` and the demo."""

from __future__ import annotations

from supportdesk.accounts.models import User, normalise_email


def ensure_supervisor(*, email: str, password: str, name: str = "") -> bool:
    """Create a supervisor with this email unless a user with it exists; True when created."""
    if User.objects.filter(email=normalise_email(email)).exists():
        return False
    User.objects.create_superuser(email, password, name=name or "Supervisor")
    return True
