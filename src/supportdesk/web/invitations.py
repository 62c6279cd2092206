"""Password-reset and invitation mail: one signed, one-use link to choose a password.

Both use Django's token generator: the token is bound to the user's password hash and
last sign-in, so it stops working once used (or once the password changes).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from supportdesk.accounts.models import User


def password_link(user: User, *, url_name: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse(url_name, kwargs={"uidb64": uid, "token": token})


def _send_after_commit(*, to: str, subject: str, body: str) -> None:
    # TODO(outbound): switch to outbound.send_notification(...) once it lands, so these
    # mails are queued, retried and recorded like every other notification.
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    )


def send_invitation(user: User, *, invited_by: User | None = None, account_name: str = "") -> None:
    link = password_link(user, url_name="web:invitation")
    who = invited_by.get_full_name() if invited_by else _("The support team")
    where = account_name or _("your company")
    body = _(
        "Hello,\n\n%(who)s invited you to the supportdesk portal for %(where)s.\n"
        "Choose your password here (the link works once):\n\n%(link)s\n\n"
        "Sign in afterwards with this email address: %(email)s\n"
    ) % {"who": who, "where": where, "link": link, "email": user.email}
    _send_after_commit(to=user.email, subject=_("Your supportdesk invitation"), body=body)


def send_password_reset(user: User) -> None:
    link = password_link(user, url_name="web:password_reset_confirm")
    body = _(
        "Hello,\n\nSomeone asked to reset the supportdesk password for %(email)s.\n"
        "If it was you, choose a new password here (the link works once):\n\n%(link)s\n\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    ) % {"email": user.email, "link": link}
    _send_after_commit(to=user.email, subject=_("Reset your supportdesk password"), body=body)
