from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from supportdesk.accounts.models import User

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_strict_content_security_policy(client):
    response = client.get(reverse("web:signin"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    assert "<script>" not in html and "style=" not in html


def test_the_sign_in_form_is_csrf_protected(client):
    strict = client.__class__(enforce_csrf_checks=True)
    response = strict.post(reverse("web:signin"), {"email": "a@b.example", "password": "x"})
    assert response.status_code == 403


def test_the_language_switch_shows_brazilian_portuguese(client):
    client.post(reverse("set_language"), {"language": "pt-br", "next": "/signin/"})
    response = client.get(reverse("web:signin"))
    assert response.headers["Content-Language"] == "pt-br"
    assert "Entrar" in response.content.decode()


def test_the_language_follows_the_browser(client):
    response = client.get(reverse("web:signin"), HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    assert "Senha" in response.content.decode()


def test_every_catalogue_is_compiled_and_complete():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for app in ("web", "portal", "console", "accounts"):
        po = root / app / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"
        assert po.with_suffix(".mo").exists(), f"compile {po} (see docs/web.md)"
        entries = po.read_text(encoding="utf-8").split("\n\n")[1:]
        untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""')]
        assert not untranslated, untranslated[:3]


def test_times_are_shown_in_the_viewers_zone_with_the_zone_named():
    moment = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    template = Template("{% load desk %}{{ moment|when_text }}")
    with translation.override("en"), timezone.override("America/Sao_Paulo"):
        text = template.render(Context({"moment": moment}))
    assert text == "Fri 10 Jan 2025, 09:00 America/Sao_Paulo"


def test_durations_read_as_time_left_or_overdue():
    from supportdesk.web.templatetags.desk import duration

    with translation.override("en"):
        assert duration(timedelta(minutes=95)) == "1 h 35 min"
        assert duration(timedelta(minutes=-12)) == "12 min overdue"
        assert duration(timedelta(days=2, hours=3)) == "2 d 3 h"
    with translation.override("pt-br"):
        assert duration(timedelta(minutes=-12)) == "12 min em atraso"


def test_a_chosen_time_zone_wins_over_the_browser(client):
    user = User.objects.create_user("ana@vendor.example", "a-long-secret-1")
    client.cookies["sd_tz"] = "Europe/Lisbon"
    client.post(reverse("web:signin"), {"email": user.email, "password": "a-long-secret-1"})
    page = client.get(reverse("web:preferences"))
    assert "Times are shown in Europe/Lisbon" in page.content.decode()
    client.post(reverse("web:preferences"), {"time_zone": "Asia/Tokyo"})
    page = client.get(reverse("web:preferences"))
    assert "Times are shown in Asia/Tokyo" in page.content.decode()


def test_an_unknown_browser_zone_falls_back_to_the_team_zone(client):
    client.cookies["sd_tz"] = "../../etc/passwd"
    page = client.get(reverse("web:signin"))
    assert "Times are shown in America/Sao_Paulo" in page.content.decode()
