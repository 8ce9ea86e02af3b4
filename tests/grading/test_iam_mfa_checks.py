from labapp.grading.grader import run_check


def check(sb, **args):
    return run_check({"kind": "iam.user_mfa_device", **args}, {}, sb.ctx())


def test_user_mfa_device_needs_an_enabled_device_of_that_user(sandbox):
    iam = sandbox.client("iam")
    out = check(sandbox, user="alice")
    assert not out.passed and "alice" in out.feedback
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    out = check(sandbox, user="alice")  # created, but not enabled for anyone
    assert not out.passed and "enable-mfa-device" in out.feedback
    iam.enable_mfa_device(UserName="bob", SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    assert not check(sandbox, user="alice").passed  # bob's device is not alice's
    other = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=other, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    out = check(sandbox, user="alice")
    assert out.passed and "alice-phone" in out.feedback
