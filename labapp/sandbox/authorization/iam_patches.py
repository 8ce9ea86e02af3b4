"""IAM user permissions boundaries, which moto 5.2.5 lacks: CreateUser ignores `PermissionsBoundary`, and
PutUserPermissionsBoundary / DeleteUserPermissionsBoundary do not exist. Roles have them in moto already.
The boundary is kept on the user (`lab_permissions_boundary_arn`), shown by GetUser, and evaluated
(principals.py)."""

from __future__ import annotations


def apply() -> None:
    from moto.core.responses import EmptyResult
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import User
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, "_lab_user_boundaries", False):
        return

    def permissions_boundary(self):
        arn = getattr(self, "lab_permissions_boundary_arn", None)
        return (
            {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
            if arn
            else None
        )

    User.permissions_boundary = property(permissions_boundary)

    def _boundary(self, arn: str | None) -> str | None:
        if arn and arn not in self.backend.managed_policies:
            raise NotFoundException(f"Policy {arn} does not exist or is not attachable.")
        return arn or None

    original_create_user = IamResponse.create_user

    def create_user(self):
        arn = _boundary(self, self._get_param("PermissionsBoundary"))
        result = original_create_user(self)
        if arn:
            self.backend.get_user(self._get_param("UserName")).lab_permissions_boundary_arn = arn
        return result

    def put_user_permissions_boundary(self):
        user = self.backend.get_user(self._get_param("UserName"))
        user.lab_permissions_boundary_arn = _boundary(self, self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_user_permissions_boundary(self):
        user = self.backend.get_user(self._get_param("UserName"))
        user.lab_permissions_boundary_arn = None
        return EmptyResult()

    IamResponse.create_user = create_user
    IamResponse.put_user_permissions_boundary = put_user_permissions_boundary
    IamResponse.delete_user_permissions_boundary = delete_user_permissions_boundary
    IamResponse._lab_user_boundaries = True
