"""The gateway checks exactly the request the emulator executes (issue 8 section 1).

Each case here is a way of writing a request so that a scanner and moto read it differently: a parameter
given twice, a gzip body, a Content-Type in other letter case, a body in an unexpected encoding or
framing. Learner A aims each at learner B's account; each must be refused or confined to A, through the
real gateway and emulator, in every protocol botocore speaks to the services the labs use.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import http.client
import json
from urllib.parse import quote, urlencode, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.fixture
def pair(sandbox_stack):
    a, b = make_sandbox(sandbox_stack.url), make_sandbox(sandbox_stack.url)
    b.client("iam").create_role(
        RoleName="b-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
    )
    # IAM checks trust policies on AssumeRole (labapp/sandbox/authorization): a-role trusts its own account.
    a.client("iam").create_role(RoleName="a-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": a.account_id}, "Action": "sts:AssumeRole"}]}))
    return a, b


def send(box, method, url, service, body=b"", headers=None, unsigned=None, payload_hash="auto", raw_target=None):
    """Sign (headers are signed) and send; `unsigned` headers are added after signing. payload_hash:
    "auto" signs X-Amz-Content-Sha256 = SHA-256 of the body, None leaves the header out, else that value."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if payload_hash == "auto":
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    elif payload_hash is not None:
        request.headers["X-Amz-Content-SHA256"] = payload_hash
    # S3SigV4Auth would replace X-Amz-Content-SHA256 with its own choice; SigV4Auth signs it as given.
    signer = S3SigV4Auth if service == "s3" and payload_hash == "auto" else SigV4Auth
    signer(Credentials(box.key, box.secret), service, "us-east-1").add_auth(request)
    return _send(box.gateway_url, request, url, body, unsigned, raw_target)


def _send(gateway_url, request, url, body, unsigned=None, raw_target=None):
    parts, gateway = urlsplit(url), urlsplit(gateway_url)
    conn = http.client.HTTPConnection(gateway.hostname, gateway.port, timeout=30)
    try:
        conn.putrequest(request.method, raw_target or (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                        skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", parts.netloc)
        for name, value in list(request.headers.items()) + list(unsigned or []):
            if name.lower() != "host":
                conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def role_arn(box, name):
    return f"arn:aws:iam::{box.account_id}:role/{name}"


def assume_form(box, *arns):
    pairs = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleSessionName", "s")]
    pairs += [("RoleArn", arn) for arn in arns]
    return urlencode(pairs).encode()


STS = "http://sts.amazonaws.com/"


def refused(status, body, statuses=(400, 403)):
    assert status in statuses, (status, body[:400])
    assert b"AssumeRoleResult" not in body and b"SecretAccessKey" not in body


# --- query protocol (STS, IAM) -------------------------------------------------------------------


def test_duplicated_form_parameter_is_refused_in_either_order(pair):
    a, b = pair
    for arns in ((role_arn(a, "a-role"), role_arn(b, "b-role")), (role_arn(b, "b-role"), role_arn(a, "a-role"))):
        status, body = send(a, "POST", STS, "sts", assume_form(a, *arns), {"Content-Type": FORM})
        refused(status, body)
        assert b"twice" in body


def test_duplicated_query_string_parameter_is_refused(pair):
    a, b = pair
    query = urlencode([("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleSessionName", "s"),
                       ("RoleArn", role_arn(a, "a-role")), ("RoleArn", role_arn(b, "b-role"))])
    status, body = send(a, "GET", f"{STS}?{query}", "sts")
    refused(status, body)
    # Encoded names are the same name: Role%41rn is RoleArn.
    query = query.replace("RoleArn=arn%3Aaws%3Aiam%3A%3A" + b.account_id, "Role%41rn=arn%3Aaws%3Aiam%3A%3A" + b.account_id)
    status, body = send(a, "GET", f"{STS}?{query}", "sts")
    refused(status, body)


def test_parameter_in_both_query_and_form_is_refused(pair):
    a, b = pair
    query = urlencode([("RoleArn", role_arn(b, "b-role"))])
    status, body = send(a, "POST", f"{STS}?{query}", "sts", assume_form(a, role_arn(a, "a-role")), {"Content-Type": FORM})
    refused(status, body)


def test_gzip_form_body_is_checked_decoded(pair):
    a, b = pair
    status, body = send(a, "POST", STS, "sts", gzip.compress(assume_form(a, role_arn(b, "b-role"))),
                        {"Content-Type": FORM, "Content-Encoding": "gzip"})
    refused(status, body, (403,))
    # The same encoding naming A's own role works: the gateway forwards what it decoded.
    status, body = send(a, "POST", STS, "sts", gzip.compress(assume_form(a, role_arn(a, "a-role"))),
                        {"Content-Type": FORM, "Content-Encoding": "gzip"})
    assert status == 200 and b"AssumeRoleResult" in body, body[:300]


def test_content_type_in_other_letter_case_is_still_a_form(pair):
    a, b = pair
    status, body = send(a, "POST", STS, "sts", assume_form(a, role_arn(b, "b-role")),
                        {"Content-Type": "Application/X-WWW-Form-Urlencoded"})
    refused(status, body, (403,))
    status, body = send(a, "POST", STS, "sts", assume_form(a, role_arn(a, "a-role")),
                        {"Content-Type": "APPLICATION/X-WWW-FORM-URLENCODED; Charset=UTF-8"})
    assert status == 200 and b"AssumeRoleResult" in body, body[:300]


def test_form_in_a_body_that_is_not_declared_a_form_is_refused(pair):
    """moto reads a body as a query string when nothing else gave it parameters."""
    a, b = pair
    for content_type in ("text/plain", "application/octet-stream", None):
        headers = {"Content-Type": content_type} if content_type else {}
        status, body = send(a, "POST", STS, "sts", assume_form(a, role_arn(b, "b-role")), headers)
        refused(status, body)


def test_other_content_encodings_are_refused_with_a_clear_error(pair):
    a, _ = pair
    for encoding in ("br", "deflate", "gzip, gzip", "GZIP;q=1", "x-gzip"):
        status, body = send(a, "POST", STS, "sts", gzip.compress(assume_form(a, role_arn(a, "a-role"))),
                            {"Content-Type": FORM, "Content-Encoding": encoding})
        assert status == 400 and b"Content-Encoding" in body, (encoding, status, body[:300])


def test_gzip_bomb_is_refused_without_inflating_it(pair):
    from django.conf import settings

    a, _ = pair
    bomb = gzip.compress(b"Action=ListUsers&Version=2010-05-08&Path=" + b"A" * (settings.LAB_GATEWAY_MAX_BODY + 10))
    assert len(bomb) < 100_000
    status, body = send(a, "POST", "http://iam.amazonaws.com/", "iam", bomb, {"Content-Type": FORM, "Content-Encoding": "gzip"})
    assert status == 413, (status, body[:300])


# --- ec2 protocol --------------------------------------------------------------------------------


def test_ec2_peer_owner_hidden_by_duplicates_or_case_is_refused(pair):
    a, b = pair
    vpc = a.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    b_vpc = b.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    base = [("Action", "CreateVpcPeeringConnection"), ("Version", "2016-11-15"), ("VpcId", vpc), ("PeerVpcId", b_vpc)]
    url = "http://ec2.us-east-1.amazonaws.com/"
    cases = [
        (urlencode(base + [("PeerOwnerId", a.account_id), ("PeerOwnerId", b.account_id)]).encode(), FORM),
        (urlencode(base + [("PeerOwnerId", b.account_id)]).encode(), "Application/X-Www-Form-Urlencoded"),
    ]
    for form, content_type in cases:
        status, body = send(a, "POST", url, "ec2", form, {"Content-Type": content_type})
        assert status in (400, 403), body[:300]
        status, body = send(a, "POST", url, "ec2", gzip.compress(form), {"Content-Type": content_type, "Content-Encoding": "gzip"})
        assert status in (400, 403), body[:300]
    assert b.client("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"] == []


# --- JSON protocol (SQS, CloudWatch Logs) ----------------------------------------------------------


def json_call(box, service, target, document, raw=None, content_type="application/x-amz-json-1.0", **kw):
    body = raw if raw is not None else json.dumps(document).encode()
    return send(box, "POST", f"http://{service}.us-east-1.amazonaws.com/", service, body,
                {"Content-Type": content_type, "X-Amz-Target": target, **kw.pop("headers", {})}, **kw)


def test_json_duplicate_keys_are_refused(pair):
    a, b = pair
    own = a.client("sqs").create_queue(QueueName="a-q")["QueueUrl"]
    theirs = b.client("sqs").create_queue(QueueName="b-q")["QueueUrl"]
    raw = ('{"QueueUrl": %s, "QueueUrl": %s, "MessageBody": "x"}' % (json.dumps(own), json.dumps(theirs))).encode()
    status, body = json_call(a, "sqs", "AmazonSQS.SendMessage", None, raw=raw)
    assert status == 400 and b"twice" in body, body[:300]
    assert b.client("sqs").get_queue_attributes(QueueUrl=theirs, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_json_gzip_body_is_checked_decoded(pair):
    a, b = pair
    a.client("logs").create_log_group(logGroupName="a-group")
    document = {"logGroupName": "a-group", "filterName": "f", "filterPattern": "",
                "destinationArn": f"arn:aws:logs:us-east-1:{b.account_id}:destination:d"}
    status, body = json_call(a, "logs", "Logs_20140328.PutSubscriptionFilter", None,
                             raw=gzip.compress(json.dumps(document).encode()), content_type="application/x-amz-json-1.1",
                             headers={"Content-Encoding": "gzip"})
    assert status == 403 and b"AccessDenied" in body, body[:300]


def test_query_syntax_inside_json_strings_does_not_reach_other_accounts(pair):
    """moto reads a JSON body as a query string too when there is no URL query: a string member holding
    `&QueueUrl=<B's queue>` must not become a parameter."""
    a, b = pair
    own = a.client("sqs").create_queue(QueueName="a-q2")["QueueUrl"]
    theirs = b.client("sqs").create_queue(QueueName="b-q2")["QueueUrl"]
    hidden = "x&QueueUrl=" + quote(theirs, safe="") + "&MessageBody=pwned"
    status, body = json_call(a, "sqs", "AmazonSQS.SendMessage", {"QueueUrl": own, "MessageBody": hidden})
    assert status in (200, 400, 403), body[:300]
    assert b.client("sqs").get_queue_attributes(QueueUrl=theirs, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    if status == 200:  # confined to A, with the text as A sent it
        message = a.client("sqs").receive_message(QueueUrl=own)["Messages"][0]
        assert message["Body"] == hidden


def test_json_protocol_with_url_query_parameters_is_refused(pair):
    a, b = pair
    theirs = b.client("sqs").create_queue(QueueName="b-q3")["QueueUrl"]
    own = a.client("sqs").create_queue(QueueName="a-q3")["QueueUrl"]
    url = "http://sqs.us-east-1.amazonaws.com/?" + urlencode({"QueueUrl": theirs})
    status, body = send(a, "POST", url, "sqs", json.dumps({"QueueUrl": own, "MessageBody": "x"}).encode(),
                        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"})
    assert status in (400, 403), body[:300]


def test_cbor_is_refused_with_a_clear_error(pair):
    a, _ = pair
    status, body = send(a, "POST", "http://monitoring.us-east-1.amazonaws.com/service/GraniteServiceVersion20100801/operation/ListMetrics",
                        "monitoring", b"\xa0", {"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"})
    assert status == 400 and b"CBOR" in body, body[:300]


# --- rest-json (Lambda) and rest-xml (Route 53, S3) --------------------------------------------------


def test_rest_json_duplicate_keys_are_refused(pair):
    a, _ = pair
    raw = b'{"FunctionName": "one", "FunctionName": "two", "Runtime": "python3.12", "Role": "r", "Handler": "h", "Code": {}}'
    status, body = send(a, "POST", "http://lambda.us-east-1.amazonaws.com/2015-03-31/functions", "lambda", raw,
                        {"Content-Type": "application/json"})
    assert status == 400 and b"twice" in body, body[:300]


def test_xml_with_a_dtd_is_refused(pair):
    a, _ = pair
    xml = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "arn:aws:iam::111111111111:role/x">]>'
           b'<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>&e;</Name>'
           b"<CallerReference>c</CallerReference></CreateHostedZoneRequest>")
    status, body = send(a, "POST", "http://route53.amazonaws.com/2013-04-01/hostedzone", "route53", xml,
                        {"Content-Type": "application/xml"})
    assert status == 400 and b"DOCTYPE" in body, body[:300]


def test_s3_configuration_as_multipart_is_refused(pair):
    a, b = pair
    bucket = f"own-{a.account_id}"
    a.client("s3").create_bucket(Bucket=bucket)
    topic = b.client("sns").create_topic(Name="b-topic")["TopicArn"]
    config = (f'<NotificationConfiguration><TopicConfiguration><Topic>{topic}</Topic>'
              f"<Event>s3:ObjectCreated:*</Event></TopicConfiguration></NotificationConfiguration>")
    boundary = "XyZ"
    multipart = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.xml"\r\n\r\n{config}\r\n'
                 f"--{boundary}--\r\n").encode()
    status, body = send(a, "PUT", f"http://s3.amazonaws.com/{bucket}?notification", "s3", multipart,
                        {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 400 and b"multipart" in body, body[:300]
    status, body = send(a, "PUT", f"http://s3.amazonaws.com/{bucket}?notification", "s3", gzip.compress(config.encode()),
                        {"Content-Encoding": "gzip"})
    assert status in (400, 403), body[:300]
    assert "TopicConfigurations" not in a.client("s3").get_bucket_notification_configuration(Bucket=bucket)


# --- the payload is bound to the signature -------------------------------------------------------


def test_payload_hash_must_match_the_body(pair):
    a, _ = pair
    form = assume_form(a, role_arn(a, "a-role"))
    status, body = send(a, "POST", STS, "sts", form, {"Content-Type": FORM}, payload_hash=hashlib.sha256(b"other").hexdigest())
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body, body[:300]


def test_unsigned_payload_hash_header_is_ignored(pair):
    """An X-Amz-Content-Sha256 outside SignedHeaders proves nothing: the body's real hash is used."""
    a, _ = pair
    form = assume_form(a, role_arn(a, "a-role"))
    status, body = send(a, "POST", STS, "sts", form, {"Content-Type": FORM}, payload_hash=None,
                        unsigned=[("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")])
    assert status == 200, body[:300]
    # The signature was made over another body than the one sent: refused.
    request = AWSRequest(method="POST", url=STS, data=form, headers={"Content-Type": FORM})
    SigV4Auth(Credentials(a.key, a.secret), "sts", "us-east-1").add_auth(request)
    other = assume_form(a, role_arn(a, "b-role"))
    status, body = _send(a.gateway_url, request, STS, other, unsigned=[("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")])
    assert status == 403 and b"SignatureDoesNotMatch" in body, body[:300]


def test_unsigned_payload_only_for_s3(pair):
    a, _ = pair
    status, body = send(a, "POST", STS, "sts", assume_form(a, role_arn(a, "a-role")), {"Content-Type": FORM},
                        payload_hash="UNSIGNED-PAYLOAD")
    assert status == 400 and b"only accepted by S3" in body, body[:300]
    bucket = f"own-{a.account_id}"
    a.client("s3").create_bucket(Bucket=bucket)
    status, body = send(a, "PUT", f"http://s3.amazonaws.com/{bucket}/k", "s3", b"data", payload_hash="UNSIGNED-PAYLOAD")
    assert status == 200, body[:300]


def _signed_chunks(box, url, chunks, tamper=False):
    """An S3 PutObject in STREAMING-AWS4-HMAC-SHA256-PAYLOAD form, chunk signatures chained from the seed."""
    data = b"".join(chunks)
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
               "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}
    request = AWSRequest(method="PUT", url=url, headers=headers)
    signer = SigV4Auth(Credentials(box.key, box.secret), "s3", "us-east-1")
    signer.add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = signer._sign(("AWS4" + box.secret).encode(), amz_date[:8])
    for part in ("us-east-1", "s3", "aws4_request"):
        key = signer._sign(key, part)
    body, previous = b"", seed
    for chunk in list(chunks) + [b""]:
        to_sign = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, hashlib.sha256(b"").hexdigest(),
                             hashlib.sha256(chunk).hexdigest()))
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        sent = chunk.replace(b"a", b"b", 1) if tamper and chunk else chunk
        body += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(chunk), signature.encode(), sent)
        previous = signature
    return _send(box.gateway_url, request, url, body)


def test_aws_chunked_signatures_are_verified_and_the_body_decoded(pair):
    a, _ = pair
    bucket = f"own-{a.account_id}"
    a.client("s3").create_bucket(Bucket=bucket)
    chunks = [b"a" * 70000, b"second chunk", b"end"]
    status, body = _signed_chunks(a, f"http://s3.amazonaws.com/{bucket}/chunked", chunks)
    assert status == 200, body[:300]
    assert a.client("s3").get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(chunks)
    status, body = _signed_chunks(a, f"http://s3.amazonaws.com/{bucket}/tampered", chunks, tamper=True)
    assert status == 403 and b"chunk signature" in body, body[:300]
    assert "Contents" not in a.client("s3").list_objects_v2(Bucket=bucket, Prefix="tampered")


def test_streaming_unsigned_trailer_checksum_is_verified(pair):
    from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum
    import io

    a, _ = pair
    bucket = f"own-{a.account_id}"
    a.client("s3").create_bucket(Bucket=bucket)
    data = b"hello trailer " * 5000

    def put(key, body):
        url = f"http://s3.amazonaws.com/{bucket}/{key}"
        return send(a, "PUT", url, "s3", body, {
            "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
            "X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm": "CRC32",
        }, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")

    encoded = AwsChunkedWrapper(io.BytesIO(data), Crc32Checksum, "x-amz-checksum-crc32", chunk_size=16384).read()
    status, body = put("trailer", encoded)
    assert status == 200, body[:300]
    obj = a.client("s3").get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert obj["Body"].read() == data
    wrong = AwsChunkedWrapper(io.BytesIO(data[:-1] + b"!"), Crc32Checksum, "x-amz-checksum-crc32", chunk_size=16384).read()
    status, body = put("bad", encoded[: encoded.index(b"0\r\nx-amz")] + wrong[wrong.index(b"0\r\nx-amz"):])
    assert status == 400 and b"BadDigest" in body, body[:300]


def test_sdk_uploads_with_checksums_keep_working(pair):
    a, _ = pair
    s3 = a.client("s3")
    bucket = f"own-{a.account_id}"
    s3.create_bucket(Bucket=bucket)
    for algorithm in ("CRC32", "SHA256", "SHA1"):
        s3.put_object(Bucket=bucket, Key=algorithm, Body=b"x" * 100_000, ChecksumAlgorithm=algorithm)
        assert s3.get_object(Bucket=bucket, Key=algorithm)["Body"].read() == b"x" * 100_000
    s3.put_object(Bucket=bucket, Key="gz", Body=gzip.compress(b"css"), ContentEncoding="gzip")
    head = s3.head_object(Bucket=bucket, Key="gz")
    assert head["ContentEncoding"] == "gzip"  # object metadata, stored as sent
    assert gzip.decompress(s3.get_object(Bucket=bucket, Key="gz")["Body"].read()) == b"css"


def _multipart(fields: list[tuple[str, str]], file_data: bytes, boundary: str = "B0undary") -> bytes:
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n\r\n'.encode()
    return out + file_data + f"\r\n--{boundary}--\r\n".encode()


def _post_upload(gateway_url, url, body):
    parts, gateway = urlsplit(url), urlsplit(gateway_url)
    conn = http.client.HTTPConnection(gateway.hostname, gateway.port, timeout=30)
    try:
        conn.request("POST", parts.path or "/", body=body, headers={
            "Host": parts.netloc, "Content-Type": "multipart/form-data; boundary=B0undary"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_s3_browser_upload_works_and_a_field_given_twice_is_refused(pair):
    a, b = pair
    s3 = a.client("s3")
    bucket = f"own-{a.account_id}"
    s3.create_bucket(Bucket=bucket)
    post = a.client("s3", signature_version="s3v4").generate_presigned_post(bucket, "uploaded.txt")
    url = f"{a.gateway_url}/{bucket}"
    status, body = _post_upload(a.gateway_url, url, _multipart(list(post["fields"].items()), b"browser data"))
    assert status in (200, 204), body[:300]
    assert s3.get_object(Bucket=bucket, Key="uploaded.txt")["Body"].read() == b"browser data"
    fields = list(post["fields"].items()) + [("key", "other.txt")]
    status, body = _post_upload(a.gateway_url, url, _multipart(fields, b"x"))
    assert status == 400 and b"twice" in body, body[:300]
    # Multipart is for uploads to a bucket only, not for other operations.
    status, body = send(a, "POST", f"http://s3.amazonaws.com/{bucket}?delete", "s3", _multipart([], b"<Delete/>"),
                        {"Content-Type": "multipart/form-data; boundary=B0undary"})
    assert status == 400 and b"multipart" in body, body[:300]


def test_cli_uploads_with_checksums_and_encodings_keep_working(pair, tmp_path):
    from tests.sandbox.test_gateway import aws

    a, _ = pair
    bucket = f"cli-{a.account_id}"
    aws(a, "s3", "mb", f"s3://{bucket}")
    data = tmp_path / "data.bin"
    data.write_bytes(b"0123456789" * 1_000_000)  # 10 MB: a multipart upload for `s3 cp`
    aws(a, "s3", "cp", str(data), f"s3://{bucket}/cp.bin")
    aws(a, "s3api", "put-object", "--bucket", bucket, "--key", "sum.bin", "--body", str(data),
        "--checksum-algorithm", "SHA256")
    aws(a, "s3api", "put-object", "--bucket", bucket, "--key", "gz.css", "--body", str(data), "--content-encoding", "gzip")
    for key in ("cp.bin", "sum.bin", "gz.css"):
        assert aws(a, "s3api", "head-object", "--bucket", bucket, "--key", key)["ContentLength"] == 10_000_000
    assert aws(a, "s3api", "head-object", "--bucket", bucket, "--key", "gz.css")["ContentEncoding"] == "gzip"
    out = tmp_path / "back.bin"
    aws(a, "s3", "cp", f"s3://{bucket}/cp.bin", str(out))
    assert out.read_bytes() == data.read_bytes()


JSON_DUPLICATES = [
    ("sqs", "POST", "http://sqs.us-east-1.amazonaws.com/", {"X-Amz-Target": "AmazonSQS.ListQueues",
     "Content-Type": "application/x-amz-json-1.0"}, b'{"QueueNamePrefix": "a", "QueueNamePrefix": "b"}'),
    ("logs", "POST", "http://logs.us-east-1.amazonaws.com/", {"X-Amz-Target": "Logs_20140328.DescribeLogGroups",
     "Content-Type": "application/x-amz-json-1.1"}, b'{"logGroupNamePrefix": "a", "logGroupNamePrefix": "b"}'),
    ("dynamodb", "POST", "http://dynamodb.us-east-1.amazonaws.com/", {"X-Amz-Target": "DynamoDB_20120810.ListTables",
     "Content-Type": "application/x-amz-json-1.0"}, b'{"Limit": 1, "Limit": 2}'),
    ("athena", "POST", "http://athena.us-east-1.amazonaws.com/query-executions", {"Content-Type": "application/json"},
     b'{"QueryString": "SELECT 1", "QueryString": "SELECT 2"}'),
    ("elasticfilesystem", "POST", "http://elasticfilesystem.us-east-1.amazonaws.com/2015-02-01/file-systems",
     {"Content-Type": "application/json"}, b'{"CreationToken": "a", "CreationToken": "b"}'),
]


@pytest.mark.parametrize(("service", "method", "url", "headers", "body"), JSON_DUPLICATES, ids=[c[0] for c in JSON_DUPLICATES])
def test_duplicate_json_members_are_refused_in_json_and_rest_json(pair, service, method, url, headers, body):
    a, _ = pair
    status, reply = send(a, method, url, service, body, headers)
    assert status == 400 and b"twice" in reply, reply[:300]


XML_WITH_DTD = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><DistributionConfig><Comment>&x;</Comment></DistributionConfig>'


@pytest.mark.parametrize(("service", "url"), [
    ("cloudfront", "http://cloudfront.amazonaws.com/2020-05-31/distribution"),
    ("route53", "http://route53.amazonaws.com/2013-04-01/hostedzone"),
    ("s3", "http://s3.amazonaws.com/own-bucket?tagging"),
])
def test_xml_dtds_are_refused_in_rest_xml(pair, service, url):
    a, _ = pair
    status, reply = send(a, "POST" if service != "s3" else "PUT", url, service, XML_WITH_DTD, {"Content-Type": "application/xml"})
    assert status == 400 and b"DOCTYPE" in reply, reply[:300]
