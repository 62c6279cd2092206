from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from supportdesk.web.zones import available_zone_names


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Leave empty to follow your browser's time zone."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = [("", _("Follow my browser"))] + [
            (name, name) for name in available_zone_names()
        ]
