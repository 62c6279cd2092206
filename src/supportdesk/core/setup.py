"""First-run setup used by `supportdesk init` and the demo."""

from __future__ import annotations

from django.contrib.auth import get_user_model


def ensure_supervisor(*, email: str, password: str) -> bool:
    """Create a supervisor with this email unless one exists; True when created."""
    User = get_user_model()
    if User.objects.filter(username=email).exists():
        return False
    User.objects.create_superuser(username=email, email=email, password=password)
    return True
