"""`{% load team %}`: an account event's before and after, in words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

LABELS = {
    "active": gettext_lazy("active"),
    "point_of_contact": gettext_lazy("point of contact"),
    "owner": gettext_lazy("account owner"),
    "exception": gettext_lazy("invitation exception"),
}
ALLOWED_BY = {
    "registered_domain": gettext_lazy("registered domain %(via)s"),
    "exception": gettext_lazy("exception %(via)s"),
    "supervisor_override": gettext_lazy("outside the registered domains, by %(via)s"),
}


def _word(value: Any) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value is None or value == "":
        return "—"
    return str(value)


@register.filter
def changes(event: Any) -> list[tuple[str, str, str]]:
    """(what, before, after) for each field the event changed, and how an invitation was
    allowed (before shown as —)."""
    before, after = event.before or {}, event.after or {}
    rows = []
    for key, label in LABELS.items():
        # A new contact has no "before": its invitation shows only how it was allowed.
        shown = key in before or (key == "exception" and key in after)
        if shown and before.get(key) != after.get(key):
            rows.append((str(label), _word(before.get(key)), _word(after.get(key))))
    allowed = after.get("allowed_by")
    if allowed in ALLOWED_BY:
        rows.append((_("allowed by"), "—", str(ALLOWED_BY[allowed]) % {"via": after.get("via", "")}))
    return rows
