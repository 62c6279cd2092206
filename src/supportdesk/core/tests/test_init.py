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


@pytest.mark.urls("supportdesk.accounts.tests.admin_urls")
def test_the_supervisor_it_creates_can_sign_in_to_the_admin(client):
    call_command("init", supervisor_email="Boss@Example.com", supervisor_password="s3cret-pass")
    supervisor = get_user_model().objects.get(email="boss@example.com")
    assert (supervisor.role, supervisor.is_staff) == ("supervisor", True)
    assert client.login(username="boss@example.com", password="s3cret-pass")
    assert client.get("/admin/accounts/account/").status_code == 200


def test_it_refuses_a_broken_policy_file_naming_the_problem(settings, tmp_path):
    broken = tmp_path / "policy.toml"
    broken.write_text('version = "x"\n[plans.gold]\nname = 3\n')
    settings.SUPPORTDESK_POLICY_FILE = str(broken)
    with pytest.raises(CommandError, match="the active policy has problems"):
        call_command("init")
