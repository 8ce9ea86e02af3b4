"""IAM login profiles that keep what the learner asked for.

moto's CreateLoginProfile ignores `PasswordResetRequired` (the flag always reads false), and its
UpdateLoginProfile stores the raw query-string value ("true"/"false" text, None when left out) and
replaces the password with None when only the flag is changed, which deletes the console password.
On AWS both parameters of UpdateLoginProfile are optional and a missing one keeps its current value.
The iam-users-groups lab invites `create-login-profile --password-reset-required`.
"""

from __future__ import annotations


def apply() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.iam.responses import IamResponse

    if getattr(IamResponse.create_login_profile, "_lab_reset_flag", False):
        return

    def create_login_profile(self) -> ActionResult:
        user_name = self._get_param("UserName")
        user = self.backend.create_login_profile(user_name, self._get_param("Password"))
        user.password_reset_required = bool(self._get_bool_param("PasswordResetRequired", False))
        return ActionResult({"LoginProfile": {
            "UserName": user.name, "CreateDate": user.create_date,
            "PasswordResetRequired": user.password_reset_required,
        }})

    def update_login_profile(self) -> EmptyResult:
        user_name = self._get_param("UserName")
        user = self.backend.get_login_profile(user_name)  # NoSuchEntity when there is none, as on AWS
        password = self._get_param("Password")
        reset = self._get_bool_param("PasswordResetRequired")
        self.backend.update_login_profile(
            user_name,
            password if password is not None else user.password,
            reset if reset is not None else user.password_reset_required,
        )
        return EmptyResult()

    create_login_profile._lab_reset_flag = True
    IamResponse.create_login_profile = create_login_profile
    IamResponse.update_login_profile = update_login_profile
