"""Athena over rest-json, which moto 5.2 does not route.

botocore 1.44 (boto3's) sends Athena as rest-json (`GET /workgroups/{WorkGroup}`, `POST /query-executions`),
while the AWS CLI v1 still carries a botocore that sends it as JSON (`POST /` with `X-Amz-Target`). moto
routes only `/`, so every boto3 call answered 404. moto's responses already resolve the operation from the
request with the installed botocore's model (either protocol) and read URI parameters from `uri_match`, so
routing every path to the same handler is enough; query-string members are mapped to their names below.
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

    AthenaResponse._get_param = _get_param
    AthenaResponse._lab_query_members = _lab_query_members


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
