"""Password-reset and invitation mail: one signed, one-use link to choose a password.

Both use Django's token generator: the token is bound to the user's password hash and
last sign-in, so it stops working once used (or once the password changes). The mails
go through outbound's queue (`send_notification`, kinds password_reset / invitation),
so they are sent after the commit, retried, and recorded like every other mail.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from supportdesk.accounts.models import User
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.services import send_notification


def password_link(user: User, *, url_name: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse(url_name, kwargs={"uidb64": uid, "token": token})


def send_invitation(user: User, *, invited_by: User | None = None, account_name: str = "") -> None:
    send_notification(
        user.email,
        _("Your supportdesk invitation"),
        "web/mail/invitation",
        {
            "who": invited_by.get_full_name() if invited_by else _("The support team"),
            "where": account_name or _("your company"),
            "link": password_link(user, url_name="web:invitation"),
            "email": user.email,
        },
        kind=OutboundMail.Kind.INVITATION,
        language=translation.get_language(),
    )


def send_password_reset(user: User) -> None:
    send_notification(
        user.email,
        _("Reset your supportdesk password"),
        "web/mail/password_reset",
        {"link": password_link(user, url_name="web:password_reset_confirm"), "email": user.email},
        kind=OutboundMail.Kind.PASSWORD_RESET,
        language=translation.get_language(),
    )
