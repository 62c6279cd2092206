import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The SLA tests create many specialists; hashing their passwords is not what they test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
