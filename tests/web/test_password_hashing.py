"""Passwords are hashed with Argon2id; accounts with an older PBKDF2 hash still sign in, and their hash is
upgraded on the way."""

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

PASSWORD = "a long passphrase 42"


@pytest.fixture(autouse=True)
def project_hashers():
    """The suite hashes with MD5 for speed (tests/conftest.py); these tests use the project's hashers."""
    import labapp.settings as project

    with override_settings(PASSWORD_HASHERS=project.PASSWORD_HASHERS):
        yield


pytestmark = pytest.mark.django_db


def test_a_new_account_gets_an_argon2id_hash():
    Client().post(reverse("signup"), {"username": "dana", "password1": PASSWORD, "password2": PASSWORD})
    encoded = User.objects.get(username="dana").password
    assert encoded.startswith("argon2$argon2id$") and "m=19456,t=2,p=1" in encoded


def test_an_old_pbkdf2_password_still_signs_in_and_is_upgraded():
    user = User.objects.create(username="erin", password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert user.password.startswith("pbkdf2_sha256$")
    response = Client().post(reverse("login"), {"username": "erin", "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    # And the new hash works.
    assert Client().post(reverse("login"), {"username": "erin", "password": PASSWORD}).status_code == 302


def test_a_wrong_password_is_refused_with_either_hash():
    User.objects.create(username="old", password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    User.objects.create_user("new", password=PASSWORD)
    for name in ("old", "new"):
        response = Client().post(reverse("login"), {"username": name, "password": "not it"})
        assert response.status_code == 200 and b"correct username and password" in response.content
