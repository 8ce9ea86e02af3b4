"""Signing in: how long verifying a password takes with each hasher Django may use here, side by side,
then a whole sign-in (POST /login/ through Django's middleware, django-axes included) before (PBKDF2
first) and after (the project's PASSWORD_HASHERS, Argon2id first). Median and p95 of BENCH_N runs each (default 15).

PBKDF2-SHA256 at Django 6's iteration count is deliberately slow (about 0.3 s a verify on an idle core,
over a second on a busy 2-core machine); Argon2id at Django's parameters is OWASP's first recommendation
and does its work in memory rather than in iterations; at Django's own Argon2 parameters (100 MiB, 8
lanes) it is no faster here, at OWASP's minimum (labapp/web/hashers.py) it is about ten times faster.
"""

from __future__ import annotations

import os
import time

from _sandbox_bench import percentiles, setup_database

N = int(os.environ.get("BENCH_N", "15"))
PASSWORD = "correct horse battery staple"


def timed(fn, n=N) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def hasher_lines():
    from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher

    from labapp.web.hashers import Argon2idHasher

    for hasher in (PBKDF2PasswordHasher(), Argon2PasswordHasher(), Argon2idHasher()):
        try:
            encoded = hasher.encode(PASSWORD, hasher.salt())
        except ValueError as exc:  # argon2-cffi missing
            print(f"{type(hasher).__name__:>22}: not available ({exc})")
            continue
        median, p95 = timed(lambda: hasher.verify(PASSWORD, encoded))
        params = (f"{hasher.iterations} iterations" if hasattr(hasher, "iterations") and hasher.algorithm != "argon2"
                  else f"time_cost={hasher.time_cost}, memory_cost={hasher.memory_cost} KiB, "
                       f"parallelism={hasher.parallelism}")
        print(f"{type(hasher).__name__:>22}: verify median {median:7.1f} ms, p95 {p95:7.1f} ms  ({params})")


def sign_in_lines():
    """A whole sign-in with PBKDF2 first (before) and with the project's PASSWORD_HASHERS (after)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    before = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    for label, hashers in (("before: PBKDF2 first", before), ("after: Argon2id first", settings.PASSWORD_HASHERS)):
        with override_settings(PASSWORD_HASHERS=hashers):
            name = f"bench-{len(hashers)}"
            get_user_model().objects.create_user(name, password=PASSWORD)

            def sign_in():
                response = Client(HTTP_HOST="localhost").post(
                    "/login/", {"username": name, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
                assert response.status_code == 302, response.status_code

            median, p95 = timed(sign_in)
        print(f"whole sign-in, POST /login/ ({label}): median {median:7.1f} ms, p95 {p95:7.1f} ms")


if __name__ == "__main__":
    setup_database()
    print(f"{os.cpu_count()} CPUs, {N} runs each")
    hasher_lines()
    sign_in_lines()
