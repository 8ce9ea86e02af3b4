"""What a request is: its service, its operation name, and a few key parameters for the journal.

Query-protocol services name the operation in an `Action` parameter and JSON services in X-Amz-Target.
REST services (S3, Route 53, CloudFront, Lambda, ...) only say it through method + path + query, so
for those we match against the `http.requestUri` templates of botocore's service model, the same data
the SDKs build those requests from. A matcher is built once per service, on first use.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

# Signing names that differ from botocore's service (model) names.
SIGNING_NAME_TO_SERVICE = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "states": "stepfunctions",
    "execute-api": "apigateway",
    "events": "events",
    "elasticloadbalancing": "elbv2",
    "cognito-idp": "cognito-idp",
    "es": "opensearch",
    "ecr": "ecr",
    "elasticfilesystem": "efs",
    "elasticmapreduce": "emr",
    "application-autoscaling": "application-autoscaling",
}

# Parameters worth keeping in the journal: names and ids a grader or a learner's journal view needs.
# Never secrets, never document bodies.
KEY_PARAMS = frozenset(
    """Bucket Key VersionId UploadId PartNumber CopySource Prefix
    UserName GroupName RoleName PolicyArn PolicyName InstanceProfileName Path RoleSessionName RoleArn
    GroupId GroupIds InstanceId InstanceIds InstanceType ImageId VpcId SubnetId KeyName VolumeId SnapshotId
    AllocationId SecurityGroupId SecurityGroupIds CidrIp IpProtocol FromPort ToPort
    NetworkInterfaceId AttachmentId DeviceIndex
    TopicArn SubscriptionArn Protocol QueueUrl QueueName FunctionName Runtime TableName
    DBInstanceIdentifier DBClusterIdentifier DBSnapshotIdentifier SourceDBSnapshotIdentifier
    TargetDBSnapshotIdentifier SourceDBInstanceIdentifier KeyId AliasName LogGroupName LogStreamName StackName
    Name Id HostedZoneId DistributionId AlarmName MetricName Namespace ClusterName ServiceName
    RepositoryName Status""".split()
)
MAX_VALUE_CHARS = 256
MAX_LIST_ITEMS = 20
MAX_PARSED_BODY = 64 * 1024
_INDEXED_FORM_KEY = re.compile(r"^(.*?)(?:\.member)?\.(\d+)$")


def service_from_signing_name(name: str) -> str:
    return SIGNING_NAME_TO_SERVICE.get(name, name)


def service_from_request(environ: dict, path: str, form_pairs=None) -> str:
    """For unsigned requests: a best guess from the Host, headers and body (used to label the journal
    and to answer errors in the caller's protocol)."""
    host = environ.get("HTTP_HOST", "").lower()
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = dict(form_pairs or []).get("Action", "")
    if action:
        return "sts" if action.startswith("AssumeRole") else "query"
    if target:
        return target.split("_", 1)[0].split(".", 1)[0].lower()
    if environ.get("CONTENT_TYPE", "").lower().startswith("application/x-www-form-urlencoded"):
        return "query"  # an unsigned query-protocol call (its body is not read): answered in that protocol
    match = re.match(r"^(?:[^.]+\.)?([a-z0-9-]+)\.(?:[a-z0-9-]+\.)?amazonaws\.com", host)
    if match and match.group(1) != "s3":
        return match.group(1)
    return "s3"


def _clip(value):
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, list):
        return [_clip(v) for v in value[:MAX_LIST_ITEMS] if isinstance(v, (str, int, float, bool))]
    return None


def key_params_from_pairs(pairs) -> dict:
    """Query-protocol parameters: `InstanceId.1=i-1&InstanceId.2=i-2` becomes {"InstanceId": [...]}."""
    params: dict = {}
    for key, value in pairs:
        indexed = _INDEXED_FORM_KEY.match(key)
        if indexed:
            name = indexed.group(1)
            if name in KEY_PARAMS:
                params.setdefault(name, [])
                if isinstance(params[name], list) and len(params[name]) < MAX_LIST_ITEMS:
                    params[name].append(value[:MAX_VALUE_CHARS])
        elif key in KEY_PARAMS:
            params[key] = value[:MAX_VALUE_CHARS]
    return params


def key_params_from_json(document) -> dict:
    if not isinstance(document, dict):
        return {}
    return {k: c for k, v in document.items() if k in KEY_PARAMS and (c := _clip(v)) is not None}


# --- REST operation matching ----------------------------------------------------------------------


@dataclass
class _RestOperation:
    name: str
    method: str
    path: re.Pattern
    required_query: tuple[tuple[str, str | None], ...]
    specificity: tuple[int, int]
    query_members: dict[str, str] = field(default_factory=dict)  # location name -> member name
    header_members: dict[str, str] = field(default_factory=dict)
    required_headers: tuple[str, ...] = ()  # e.g. x-amz-copy-source tells CopyObject from PutObject


def _template_to_regex(template: str) -> tuple[re.Pattern, int]:
    pattern, literal = "", 0
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name = piece[1:-1]
            greedy = name.endswith("+")
            name = re.sub(r"\W", "_", name.rstrip("+"))
            pattern += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
        else:
            pattern += re.escape(piece)
            literal += len(piece)
    return re.compile(f"^{pattern}/?$"), literal


class RestMatcher:
    def __init__(self, service_model):
        self.operations: list[_RestOperation] = []
        for name in service_model.operation_names:
            operation = service_model.operation_model(name)
            http = operation.http
            path_template, _, query_template = http.get("requestUri", "/").partition("?")
            required = tuple(
                (k, v or None)
                for k, _, v in (part.partition("=") for part in query_template.split("&") if part)
                if k != "x-id"  # botocore adds x-id=<Operation>; other clients do not, so it is a hint only
            )
            regex, literal = _template_to_regex(path_template)
            query_members, header_members = {}, {}
            required_query, required_headers = list(required), []
            if operation.input_shape is not None:
                must = set(operation.input_shape.required_members)
                for member_name, shape in operation.input_shape.members.items():
                    location = shape.serialization.get("location")
                    location_name = shape.serialization.get("name", member_name)
                    if location == "querystring":
                        query_members[location_name] = member_name
                        if member_name in must:
                            required_query.append((location_name, None))
                    elif location == "header":
                        header_members[location_name.lower()] = member_name
                        if member_name in must:
                            required_headers.append(location_name.lower())
            required = tuple(required_query)
            self.operations.append(
                _RestOperation(
                    name,
                    http.get("method", "GET"),
                    regex,
                    required,
                    (len(required) + len(required_headers), literal),
                    query_members,
                    header_members,
                    tuple(required_headers),
                )
            )

    @property
    def by_method(self) -> dict[str, list[_RestOperation]]:
        # Most specific first would allow an early exit; indexing by method already skips most regexes.
        if not hasattr(self, "_by_method"):
            index: dict[str, list[_RestOperation]] = {}
            for op in self.operations:
                index.setdefault(op.method, []).append(op)
            self._by_method = index
        return self._by_method

    def match(
        self, method: str, path: str, query: dict[str, str], headers: frozenset[str] = frozenset()
    ) -> tuple[_RestOperation | None, dict]:
        explicit = query.get("x-id")
        best, best_groups = None, {}
        for op in self.by_method.get(method, ()):
            if explicit and op.name != explicit:
                continue
            matched = op.path.match(path)
            if not matched:
                continue
            if any(k not in query or (v is not None and query[k] != v) for k, v in op.required_query):
                continue
            if any(h not in headers for h in op.required_headers):
                continue
            if best is None or op.specificity > best.specificity:
                best, best_groups = op, matched.groupdict()
        return best, best_groups


_matchers: dict[str, RestMatcher | None] = {}
_matchers_lock = threading.Lock()
_loader = None


def _service_model(service: str):
    """botocore's model of a service (what SDKs build requests from), or None for one it does not know.
    Callers hold _matchers_lock and cache what they derive from it."""
    global _loader
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    _loader = _loader or create_loader()
    try:
        return ServiceModel(_loader.load_service_model(service, "service-2"), service_name=service)
    except Exception:  # an unknown service
        return None


def rest_matcher(service: str) -> RestMatcher | None:
    with _matchers_lock:
        if service in _matchers:
            return _matchers[service]
        model = _service_model(service)
        try:
            matcher = RestMatcher(model) if model is not None and model.protocol.startswith("rest") else None
        except Exception:  # a model we cannot route: journaled without an action
            matcher = None
        _matchers[service] = matcher
        return matcher


@dataclass(frozen=True)
class Protocols:
    """How a service's requests are encoded, from botocore's model (what SDKs build requests from)."""

    protocol: str  # the one botocore uses: query, ec2, json, rest-json, rest-xml, smithy-rpc-v2-cbor
    supported: tuple[str, ...]
    json_version: str = "1.1"
    blob_payload_operations: frozenset[str] = frozenset()  # rest operations whose body is raw data


_protocols: dict[str, Protocols | None] = {}


def protocols(service: str) -> Protocols | None:
    """None for a service botocore does not know."""
    with _matchers_lock:
        if service in _protocols:
            return _protocols[service]
        model = _service_model(service)
        if model is None:
            _protocols[service] = None
            return None
        blob_operations = set()
        if model.protocol.startswith("rest"):
            for name in model.operation_names:
                shape = model.operation_model(name).input_shape
                payload = shape.serialization.get("payload") if shape is not None else None
                if payload and shape.members[payload].type_name in ("blob", "string"):
                    blob_operations.add(name)
        found = Protocols(
            model.resolved_protocol,  # the same choice botocore makes when it sends
            tuple(model.metadata.get("protocols", [model.protocol])),
            model.metadata.get("jsonVersion", "1.1"),
            frozenset(blob_operations),
        )
        _protocols[service] = found
        return found


# --- the whole description ---------------------------------------------------------------------


@dataclass
class Operation:
    service: str
    action: str
    params: dict

    @property
    def mutating(self) -> bool:
        return not self.action.startswith(("Describe", "List", "Get", "Head", "Select"))


def s3_bucket_and_path(host: str, path: str) -> tuple[str | None, str]:
    """(bucket from a virtual-hosted Host, path in path-style form)."""
    hostname = host.split(":", 1)[0].lower()
    match = re.match(r"^(.+?)\.s3[.-]", hostname)
    if match:
        bucket = match.group(1)
        return bucket, "/" + bucket + (path if path.startswith("/") else "/" + path)
    return None, path


def describe(
    service: str,
    method: str,
    environ: dict,
    decoded_path: str,
    query_pairs: list[tuple[str, str]],
    form_pairs: list[tuple[str, str]] | None,
    body: bytes,
) -> Operation:
    query = {k: v for k, v in query_pairs}
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = query.get("Action") or (dict(form_pairs).get("Action") if form_pairs else None)
    params: dict = {}
    if action:
        params = key_params_from_pairs(list(query_pairs) + list(form_pairs or []))
        params.pop("Action", None)
        return Operation(service, action, params)
    if target:
        action = target.rsplit(".", 1)[-1]
        if body and len(body) <= MAX_PARSED_BODY:
            try:
                params = key_params_from_json(json.loads(body))
            except ValueError:
                params = {}
        return Operation(service, action, params)

    path = decoded_path
    if service == "s3":
        _bucket, path = s3_bucket_and_path(environ.get("HTTP_HOST", ""), decoded_path)
    matcher = rest_matcher(service)
    if matcher is None:
        return Operation(service, "", {})
    headers = frozenset(
        k[5:].lower().replace("_", "-") for k in environ if k.startswith("HTTP_")
    ) | ({"content-type"} if environ.get("CONTENT_TYPE") else frozenset())
    operation, groups = matcher.match(method, path, query, headers)
    if operation is None:
        return Operation(service, "", {})
    params = {k: unquote(v)[:MAX_VALUE_CHARS] for k, v in groups.items() if k in KEY_PARAMS}
    for location, member in operation.query_members.items():
        if member in KEY_PARAMS and location in query:
            params[member] = query[location][:MAX_VALUE_CHARS]
    for location, member in operation.header_members.items():
        value = environ.get("HTTP_" + location.upper().replace("-", "_"))
        if member in KEY_PARAMS and value is not None:
            params[member] = value[:MAX_VALUE_CHARS]
    if service != "s3" and body and len(body) <= MAX_PARSED_BODY and body[:1] == b"{":
        try:
            params.update(key_params_from_json(json.loads(body)))
        except ValueError:
            pass
    return Operation(service, operation.name, params)


def add_response_params(operation: Operation, response_headers) -> None:
    """S3 answers with version ids and delete markers in headers; graders of versioning labs need both.

    The request's own VersionId (if any) moves to RequestVersionId so a DeleteObject that *created* a
    delete marker (no RequestVersionId) can be told from one that *removed* a version."""
    if operation.service != "s3":
        return
    version = response_headers("x-amz-version-id")
    marker = response_headers("x-amz-delete-marker")
    if "VersionId" in operation.params:
        operation.params["RequestVersionId"] = operation.params["VersionId"]
    if version:
        operation.params["VersionId"] = version[:MAX_VALUE_CHARS]
    if marker is not None:
        operation.params["DeleteMarker"] = marker.lower() == "true"


def parse_form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return []
