"""Fresh sandbox identities: account ids and access keys.

Used by the session service when it creates a sandbox and by the tests. Values come from the `secrets`
module, so an account id or key cannot be guessed from another one.
"""

import secrets
import string

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"


def new_account_id() -> str:
    """12 random digits; never starts with 0 so tools that parse it as a number keep all digits."""
    return str(secrets.choice(range(1, 10))) + "".join(secrets.choice(string.digits) for _ in range(11))


def new_access_key_id() -> str:
    """Looks like a long-term AWS key ("AKIA" + 16). Unlike moto's keys it encodes no account."""
    return "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    """40 characters, the length and alphabet of a real AWS secret access key."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
