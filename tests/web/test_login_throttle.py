"""Sign-in throttling (django-axes): wrong passwords for one username from one address lock that pair
out for a while; the right password then does not get in either, other learners are unaffected."""

import pytest
from django.conf import settings
from django.test import Client

from .conftest import make_user

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="203.0.113.10"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_wrong_passwords_lock_that_username_from_that_address():
    make_user("carol")
    make_user("dave")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "carol", "wrong password")
        assert response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()
    locked = sign_in(client, "carol", "wrong password")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Now even the right password is refused from here...
    assert sign_in(client, "carol", "correct horse battery").status_code == 429
    # ...but another learner on the same address (a classroom behind one NAT) signs in,
    assert sign_in(Client(), "dave", "correct horse battery").status_code == 302
    # and carol from another address too.
    assert sign_in(Client(), "carol", "correct horse battery", address="198.51.100.7").status_code == 302


def test_a_successful_sign_in_resets_the_count():
    make_user("erin")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "erin", "wrong password")
    assert sign_in(client, "erin", "correct horse battery").status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "erin", "wrong password").status_code == 200
