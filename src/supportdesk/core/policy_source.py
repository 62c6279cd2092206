"""The active support policy of this installation (Django side of `supportdesk.policy`).

`settings.SUPPORTDESK_POLICY_FILE` names a policy TOML file; empty means the packaged
default. The policy is loaded once per process and cached; a broken file raises
PolicyError with FILE:LINE problems. Tests that change the setting call
`reset_active_policy()` (or use `override_settings`, which resets it too).
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from supportdesk.policy import Policy, default_policy_path, load_default_policy, load_policy

_lock = threading.Lock()
_cached: Policy | None = None


def active_policy_path() -> Path:
    """The file the active policy is read from."""
    configured = getattr(settings, "SUPPORTDESK_POLICY_FILE", "") or ""
    return Path(configured) if configured else default_policy_path()


def active_policy() -> Policy:
    """The active policy, loaded on first use."""
    global _cached
    policy = _cached
    if policy is not None:
        return policy
    with _lock:
        if _cached is None:
            configured = getattr(settings, "SUPPORTDESK_POLICY_FILE", "") or ""
            _cached = load_policy(configured) if configured else load_default_policy()
        return _cached


def reset_active_policy() -> None:
    """Forget the cached policy; the next `active_policy()` reads the file again."""
    global _cached
    with _lock:
        _cached = None


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting == "SUPPORTDESK_POLICY_FILE":
        reset_active_policy()
