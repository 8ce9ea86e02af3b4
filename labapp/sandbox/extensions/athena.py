"""Athena over rest-json, which moto 5.2 does not route.

botocore 1.44 (boto3's) sends Athena as rest-json (`GET /workgroups/{WorkGroup}`, `POST /query-executions`),
while the AWS CLI v1 still carries a botocore that sends it as JSON (`POST /` with `X-Amz-Target`). moto
routes only `/`, so every boto3 call answered 404. Here every path goes to moto's handler, which resolves
a rest-json operation from the installed botocore's routes and reads URI parameters from `uri_match`;
query-string members are mapped to their names, and a JSON request's operation is its X-Amz-Target.
"""

from __future__ import annotations


def apply() -> None:
    from moto.athena import urls
    from moto.athena.responses import AthenaResponse

    urls.url_paths.setdefault("{0}/(?P<rest_json_path>.+)$", AthenaResponse.dispatch)
    original = AthenaResponse._get_param

    def _get_param(self, param_name, if_none=None):
        value = original(self, param_name, None)
        if value is None:
            # rest-json puts some members in the query string under another name (`workGroup`...).
            value = self._lab_query_members().get(param_name)
        return if_none if value is None else value

    def _lab_query_members(self) -> dict:
        cached = self.__dict__.get("_lab_query_members_cache")
        if cached is None:
            cached = self.__dict__["_lab_query_members_cache"] = _query_members(self)
        return cached

    original_action = AthenaResponse._get_action

    def _get_action(self):
        # moto resolves the operation with the installed botocore's (rest-json) routes only; the CLI's
        # JSON requests name it in X-Amz-Target (`AmazonAthena.ListWorkGroups`) and go to `/`.
        target = self.headers.get("X-Amz-Target")
        if target and target.startswith("AmazonAthena."):
            return target.split(".", 1)[1]
        return original_action(self)

    AthenaResponse._get_param = _get_param
    AthenaResponse._lab_query_members = _lab_query_members
    AthenaResponse._get_action = _get_action


def _query_members(response) -> dict:
    """Members sent in the query string, by member name, for the operation this request is."""
    from moto.core.responses import get_service_model

    action = response._get_action()
    if not action:
        return {}
    try:
        shape = get_service_model("athena").operation_model(action).input_shape
    except Exception:  # an unknown operation: nothing to map
        return {}
    if shape is None:
        return {}
    found = {}
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring":
            values = response.querystring.get(member.serialization.get("name", name))
            if values:
                found[name] = int(values[0]) if member.type_name == "integer" else values[0]
    return found
