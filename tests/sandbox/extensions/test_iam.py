"""IAM login profiles (labapp/sandbox/extensions/iam.py), through the real gateway and emulator."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def test_password_reset_required_is_stored_and_updates_keep_the_password(sandbox_stack):
    iam = make_sandbox(sandbox_stack.url).client("iam")
    iam.create_user(UserName="alice")
    created = iam.create_login_profile(UserName="alice", Password="Lab-Passw0rd-2026!", PasswordResetRequired=True)
    assert created["LoginProfile"]["PasswordResetRequired"] is True
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is True
    # Only the flag changes: the console password stays (moto used to drop it).
    iam.update_login_profile(UserName="alice", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is False
    # Only the password changes: the flag stays.
    iam.update_login_profile(UserName="alice", PasswordResetRequired=True)
    iam.update_login_profile(UserName="alice", Password="An0ther-Passw0rd!")
    assert iam.get_login_profile(UserName="alice")["LoginProfile"]["PasswordResetRequired"] is True


def test_without_the_flag_no_reset_is_required(sandbox_stack):
    iam = make_sandbox(sandbox_stack.url).client("iam")
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Lab-Passw0rd-2026!")
    assert iam.get_login_profile(UserName="bob")["LoginProfile"]["PasswordResetRequired"] is False
