"""Fresh sandbox identities: a 12-digit account id and an access key pair per lab session.

The key id is random, not derived from the account (moto's own key scheme encodes the account and is
forgeable); the gateway maps key -> account from the database only.
"""

import secrets
import string

_KEY_ALPHABET = string.ascii_uppercase + string.digits


def new_account_id() -> str:
    # Never starting with 0 keeps it a 12-digit number wherever tools parse it as one.
    return str(secrets.choice("123456789")) + "".join(secrets.choice(string.digits) for _ in range(11))


def new_access_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]
