"""A lab whose session owns several accounts shows one more credentials block per extra account."""

from django.urls import reverse

from labapp.labs.models import SessionAccount

from .conftest import make_session  # noqa: F401


def test_extra_account_credentials_are_shown_with_their_account(alice_client, session, no_gateway):
    partner = SessionAccount.objects.create(
        session=session,
        name="partner",
        account_id="200000000001",
        access_key_id="LKIAPARTNER00001",
        secret_access_key="partner-secret-1",
    )
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    assert page.count('class="credentials"') == 2
    assert 'id="credentials-partner"' in page and "partner account <code>200000000001</code>" in page
    assert partner.access_key_id in page and partner.secret_access_key in page
    assert session.access_key_id in page  # the main account's block is unchanged


def test_a_single_account_lab_shows_one_credentials_block(alice_client, session, no_gateway):
    page = alice_client.get(reverse("lab", args=[session.lab.slug])).content.decode()
    assert page.count('class="credentials"') == 1
