import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_it_creates_the_supervisor_once():
    call_command("init", supervisor_email="boss@example.com", supervisor_password="s3cret-pass")
    call_command("init", supervisor_email="boss@example.com", supervisor_password="s3cret-pass")
    assert get_user_model().objects.filter(email="boss@example.com").count() == 1


def test_it_refuses_an_email_without_a_password():
    with pytest.raises(CommandError, match="give both"):
        call_command("init", supervisor_email="boss@example.com", supervisor_password="")
