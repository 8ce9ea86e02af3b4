"""The password hasher: Argon2id at OWASP's minimum parameters (Password Storage Cheat Sheet: 19 MiB of
memory, 2 passes, 1 lane).

Why not PBKDF2 (Django's default) or Django's own Argon2 parameters: on this project's 2-core machines a
PBKDF2-SHA256 verify at Django 6's 1,500,000 iterations took 0.3 s idle and over 0.7 s under load, most
of a sign-in, and Argon2 at Django's parameters (100 MiB, 8 lanes) was no faster. Argon2id at these
parameters takes about a tenth of that and is memory-hard, so guessing on GPUs costs more than the
iterations did. `bench/signin.py` prints the figures side by side.

Same algorithm name as Django's Argon2PasswordHasher: existing argon2 hashes verify, and any made with
other parameters are re-hashed with these at the next sign-in (Argon2PasswordHasher.must_update), as
PBKDF2 hashes are (settings.PASSWORD_HASHERS keeps the PBKDF2 hashers for that).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
