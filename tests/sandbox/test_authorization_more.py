"""IAM in every sandbox, continued: the resource-based policies of Lambda, Secrets Manager and ECR, KMS
grants, service condition keys, S3 Block Public Access and Object Ownership for signed callers. Real boto3
calls through the gateway, signed by IAM users' keys and STS credentials."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox
from tests.sandbox.test_authorization import allow, denied, deny, doc, session_keys, user_keys

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def box(sandbox_stack):
    return make_sandbox(sandbox_stack.url)


def arn_of(box, user: str) -> str:
    return f"arn:aws:iam::{box.account_id}:user/{user}"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def lambda_function(box, name: str) -> str:
    role = box.client("iam").create_role(
        RoleName=f"{name}-exec",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    return box.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": _zip()}
    )["FunctionArn"]


def test_a_lambda_function_policy_naming_the_user_grants(box):
    function_arn = lambda_function(box, "report")
    lena = user_keys(box, "lena")
    message = denied(lena.client("lambda").get_function, FunctionName="report", code="AccessDeniedException")
    assert "lambda:GetFunction" in message and "no identity-based policy allows" in message
    denied(lena.client("lambda").invoke, FunctionName="report", code="AccessDeniedException")

    box.client("lambda").add_permission(
        FunctionName="report",
        StatementId="lena-reads",
        Action="lambda:GetFunction",
        Principal=arn_of(box, "lena"),
    )
    assert (
        lena.client("lambda").get_function(FunctionName="report")["Configuration"]["FunctionArn"]
        == function_arn
    )
    # The permission names one action: invoking still needs its own.
    denied(lena.client("lambda").invoke, FunctionName="report", code="AccessDeniedException")
    box.client("lambda").remove_permission(FunctionName="report", StatementId="lena-reads")
    denied(lena.client("lambda").get_function, FunctionName="report", code="AccessDeniedException")


def test_a_secret_policy_grants_and_the_secret_is_named_by_its_full_arn(box):
    secrets = box.client("secretsmanager")
    secret_arn = secrets.create_secret(Name="db-password", SecretString="hunter2")["ARN"]
    assert secret_arn.split(":secret:", 1)[1] != "db-password"  # AWS adds a random suffix
    mona = user_keys(box, "mona")
    denied(
        mona.client("secretsmanager").get_secret_value, SecretId="db-password", code="AccessDeniedException"
    )
    secrets.put_resource_policy(
        SecretId="db-password",
        ResourcePolicy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn_of(box, "mona")},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    assert mona.client("secretsmanager").get_secret_value(SecretId="db-password")["SecretString"] == "hunter2"
    denied(mona.client("secretsmanager").delete_secret, SecretId="db-password", code="AccessDeniedException")

    # An identity policy on "db-password-??????" (the documented pattern) matches the real ARN.
    nico = user_keys(
        box,
        "nico",
        inline=doc(
            allow(
                "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:us-east-1:{box.account_id}:secret:db-password-??????",
            )
        ),
    )
    assert nico.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"] == "hunter2"
    assert nico.client("secretsmanager").get_secret_value(SecretId="db-password")["SecretString"] == "hunter2"
    # A Deny in the secret's policy wins over the identity policy.
    secrets.put_resource_policy(
        SecretId="db-password",
        ResourcePolicy=doc(
            {
                "Effect": "Deny",
                "Principal": {"AWS": arn_of(box, "nico")},
                "Action": "secretsmanager:*",
                "Resource": "*",
            }
        ),
    )
    message = denied(
        nico.client("secretsmanager").get_secret_value, SecretId="db-password", code="AccessDeniedException"
    )
    assert "explicit deny in a resource-based policy" in message


def test_an_ecr_repository_policy_naming_the_user_grants(box):
    ecr = box.client("ecr")
    ecr.create_repository(repositoryName="web")
    olga = user_keys(box, "olga")
    denied(olga.client("ecr").list_images, repositoryName="web", code="AccessDeniedException")
    ecr.set_repository_policy(
        repositoryName="web",
        policyText=doc(
            {
                "Sid": "olga-pulls",
                "Effect": "Allow",
                "Principal": {"AWS": arn_of(box, "olga")},
                "Action": ["ecr:ListImages", "ecr:BatchGetImage"],
            }
        ),
    )
    assert olga.client("ecr").list_images(repositoryName="web")["imageIds"] == []
    denied(olga.client("ecr").delete_repository, repositoryName="web", code="AccessDeniedException")


def test_kms_grants_let_the_grantee_use_the_key_until_retired_or_revoked(box):
    kms = box.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]  # the default key policy: the account's IAM decides
    pia = user_keys(box, "pia")
    pia_kms = pia.client("kms")
    denied(pia_kms.encrypt, KeyId=key, Plaintext=b"x", code="AccessDeniedException")

    grant = kms.create_grant(
        KeyId=key,
        GranteePrincipal=arn_of(box, "pia"),
        RetiringPrincipal=arn_of(box, "pia"),
        Operations=["Encrypt", "Decrypt"],
        Constraints={"EncryptionContextSubset": {"app": "payroll"}},
    )
    blob = pia_kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"app": "payroll", "n": "1"})[
        "CiphertextBlob"
    ]
    assert (
        pia_kms.decrypt(CiphertextBlob=blob, KeyId=key, EncryptionContext={"app": "payroll", "n": "1"})[
            "Plaintext"
        ]
        == b"x"
    )
    # Outside the grant's constraint, or an operation it does not list: refused.
    denied(pia_kms.encrypt, KeyId=key, Plaintext=b"x", code="AccessDeniedException")
    denied(
        pia_kms.encrypt,
        KeyId=key,
        Plaintext=b"x",
        EncryptionContext={"app": "hr"},
        code="AccessDeniedException",
    )
    denied(
        pia_kms.generate_data_key,
        KeyId=key,
        KeySpec="AES_256",
        EncryptionContext={"app": "payroll"},
        code="AccessDeniedException",
    )
    # pia may neither revoke (kms:RevokeGrant is an IAM permission she lacks)...
    denied(pia_kms.revoke_grant, KeyId=key, GrantId=grant["GrantId"], code="AccessDeniedException")
    # ...but, as the retiring principal, retire it; then the grant allows nothing.
    pia_kms.retire_grant(GrantToken=grant["GrantToken"])
    denied(
        pia_kms.encrypt,
        KeyId=key,
        Plaintext=b"x",
        EncryptionContext={"app": "payroll"},
        code="AccessDeniedException",
    )

    # A grant to a role reaches its sessions; the administrator's RevokeGrant ends it.
    role = box.client("iam").create_role(
        RoleName="signer",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": box.account_id}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    second = kms.create_grant(KeyId=key, GranteePrincipal=role, Operations=["GenerateDataKey"])
    signer = session_keys(
        box, box.client("sts").assume_role(RoleArn=role, RoleSessionName="signer-1")["Credentials"]
    ).client("kms")
    assert len(signer.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]) == 32
    denied(signer.retire_grant, KeyId=key, GrantId=second["GrantId"], code="AccessDeniedException")
    kms.revoke_grant(KeyId=key, GrantId=second["GrantId"])
    denied(signer.generate_data_key, KeyId=key, KeySpec="AES_256", code="AccessDeniedException")


# --- condition keys ---------------------------------------------------------------------------------------


def test_mfa_age_is_counted_from_the_mfa_session(box):
    iam = box.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="rita-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    rita = user_keys(
        box,
        "rita",
        inline=doc(
            allow("s3:ListAllMyBuckets", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
            deny("s3:ListAllMyBuckets", Condition={"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}),
        ),
    )
    iam.enable_mfa_device(
        UserName="rita", SerialNumber=device, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    denied(rita.client("s3").list_buckets)  # long-term keys: no MFA age at all
    plain = session_keys(box, rita.client("sts").get_session_token()["Credentials"])
    denied(plain.client("s3").list_buckets)  # a session without MFA has no age either
    fresh = session_keys(
        box, rita.client("sts").get_session_token(SerialNumber=device, TokenCode="123456")["Credentials"]
    )
    fresh.client("s3").list_buckets()
    iam.put_user_policy(
        UserName="rita",
        PolicyName="inline",
        PolicyDocument=doc(
            allow("s3:ListAllMyBuckets", Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "0"}})
        ),
    )
    denied(fresh.client("s3").list_buckets)  # older than 0 seconds: the condition no longer holds


def test_dynamodb_leading_keys_and_attributes(box):
    box.client("dynamodb").create_table(
        TableName="notes",
        KeySchema=[
            {"AttributeName": "owner", "KeyType": "HASH"},
            {"AttributeName": "id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table = f"arn:aws:dynamodb:us-east-1:{box.account_id}:table/notes"
    quinn = user_keys(
        box,
        "quinn",
        inline=doc(
            allow(
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                table,
                Condition={
                    "ForAllValues:StringEquals": {
                        "dynamodb:LeadingKeys": ["${aws:username}"],
                        "dynamodb:Attributes": ["owner", "id", "text"],
                    }
                },
            )
        ),
    )
    ddb = quinn.client("dynamodb")
    ddb.put_item(TableName="notes", Item={"owner": {"S": "quinn"}, "id": {"S": "1"}, "text": {"S": "hi"}})
    message = denied(
        ddb.put_item,
        TableName="notes",
        Item={"owner": {"S": "rose"}, "id": {"S": "1"}},
        code="AccessDeniedException",
    )
    assert "dynamodb:PutItem" in message
    denied(
        ddb.put_item,
        TableName="notes",
        Item={"owner": {"S": "quinn"}, "id": {"S": "2"}, "salary": {"N": "1"}},
        code="AccessDeniedException",
    )
    assert ddb.get_item(TableName="notes", Key={"owner": {"S": "quinn"}, "id": {"S": "1"}})["Item"][
        "text"
    ] == {"S": "hi"}
    denied(
        ddb.get_item,
        TableName="notes",
        Key={"owner": {"S": "rose"}, "id": {"S": "1"}},
        code="AccessDeniedException",
    )
    query = {
        "TableName": "notes",
        "KeyConditionExpression": "#o = :who",
        "ExpressionAttributeNames": {"#o": "owner"},
    }
    assert ddb.query(**query, ExpressionAttributeValues={":who": {"S": "quinn"}})["Count"] == 1
    denied(
        ddb.query, **query, ExpressionAttributeValues={":who": {"S": "rose"}}, code="AccessDeniedException"
    )
    denied(
        ddb.get_item,
        TableName="notes",
        Key={"owner": {"S": "quinn"}, "id": {"S": "1"}},
        ProjectionExpression="salary",
        code="AccessDeniedException",
    )


def test_kms_encryption_context_and_caller_account_conditions(box):
    kms = box.client("kms")
    key = kms.create_key(
        Policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{box.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "AnyoneOfThisAccountMayDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": box.account_id}},
            },
        )
    )["KeyMetadata"]["KeyId"]
    sara = user_keys(
        box,
        "sara",
        inline=doc(
            allow(
                "kms:Encrypt",
                Condition={
                    "StringEquals": {"kms:EncryptionContext:app": "payroll"},
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["app"]},
                },
            )
        ),
    )
    sara_kms = sara.client("kms")
    blob = sara_kms.encrypt(KeyId=key, Plaintext=b"s", EncryptionContext={"app": "payroll"})["CiphertextBlob"]
    denied(sara_kms.encrypt, KeyId=key, Plaintext=b"s", code="AccessDeniedException")
    denied(
        sara_kms.encrypt,
        KeyId=key,
        Plaintext=b"s",
        EncryptionContext={"app": "hr"},
        code="AccessDeniedException",
    )
    denied(
        sara_kms.encrypt,
        KeyId=key,
        Plaintext=b"s",
        EncryptionContext={"app": "payroll", "extra": "x"},
        code="AccessDeniedException",
    )
    # The key policy's statement for the account's callers decrypts without any identity policy.
    assert sara_kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "payroll"})["Plaintext"] == b"s"


def test_s3_uses_the_callers_kms_permissions_through_s3(box):
    bucket = f"sse-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    key = box.client("kms").create_key()["KeyMetadata"]["Arn"]
    tom = user_keys(box, "tom", attach=["arn:aws:iam::aws:policy/AmazonS3FullAccess"])
    s3 = tom.client("s3")
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key}
    message = denied(s3.put_object, Bucket=bucket, Key="a.txt", Body=b"a", **sse)
    assert "kms:GenerateDataKey" in message
    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"p")  # no KMS key, no KMS permission needed
    box.client("iam").put_user_policy(
        UserName="tom",
        PolicyName="kms-through-s3",
        PolicyDocument=doc(
            allow(
                ["kms:GenerateDataKey", "kms:Decrypt"],
                key,
                Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            )
        ),
    )
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", **sse)
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"a"
    # The same permission does not reach KMS directly.
    denied(tom.client("kms").generate_data_key, KeyId=key, KeySpec="AES_256", code="AccessDeniedException")
    # Reading an object S3 encrypted with the key needs kms:Decrypt through S3.
    box.client("iam").delete_user_policy(UserName="tom", PolicyName="kms-through-s3")
    assert "kms:Decrypt" in denied(s3.get_object, Bucket=bucket, Key="a.txt")


def test_request_tags_of_lab_services_in_their_own_shapes(box):
    ulla = user_keys(
        box,
        "ulla",
        inline=doc(
            allow(
                ["sqs:CreateQueue", "sqs:TagQueue", "kms:CreateKey", "kms:TagResource", "lambda:TagResource"],
                Condition={
                    "StringEquals": {"aws:RequestTag/team": "blue"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
                },
            )
        ),
    )
    sqs = ulla.client("sqs")
    sqs.create_queue(QueueName="blue-jobs", tags={"team": "blue"})
    denied(sqs.create_queue, QueueName="red-jobs", tags={"team": "red"})
    denied(sqs.create_queue, QueueName="untagged-jobs")
    kms = ulla.client("kms")
    kms.create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])
    denied(
        kms.create_key,
        Tags=[{"TagKey": "team", "TagValue": "blue"}, {"TagKey": "cost", "TagValue": "1"}],
        code="AccessDeniedException",
    )
    function_arn = lambda_function(box, "tagged")
    ulla.client("lambda").tag_resource(Resource=function_arn, Tags={"team": "blue"})
    denied(
        ulla.client("lambda").tag_resource,
        Resource=function_arn,
        Tags={"team": "red"},
        code="AccessDeniedException",
    )


# --- S3 Block Public Access and Object Ownership, for signed callers ------------------------------------------


def test_restrict_public_buckets_takes_the_public_grant_from_signed_callers(box):
    s3 = box.client("s3")
    bucket = f"public-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"hello")
    vera = user_keys(box, "vera")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=doc(
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {
                "Sid": "VeraLists",
                "Effect": "Allow",
                "Principal": {"AWS": arn_of(box, "vera")},
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
            },
        ),
    )
    assert vera.client("s3").get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"hello"
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    denied(vera.client("s3").get_object, Bucket=bucket, Key="index.html")
    # A statement naming vera herself is not public: it still grants.
    assert vera.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    s3.delete_public_access_block(Bucket=bucket)
    assert vera.client("s3").get_object(Bucket=bucket, Key="index.html")["Body"].read() == b"hello"


def test_acl_grants_count_for_signed_callers_until_acls_are_disabled_or_ignored(box):
    s3 = box.client("s3")
    bucket = f"acl-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"s", ACL="authenticated-read")
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"p")
    walt = user_keys(box, "walt")
    assert walt.client("s3").get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"s"
    denied(walt.client("s3").get_object, Bucket=bucket, Key="private.txt")
    denied(walt.client("s3").put_object, Bucket=bucket, Key="new.txt", Body=b"n")
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    denied(walt.client("s3").get_object, Bucket=bucket, Key="shared.txt")
    s3.delete_public_access_block(Bucket=bucket)
    assert walt.client("s3").get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"s"
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    denied(walt.client("s3").get_object, Bucket=bucket, Key="shared.txt")


def test_anonymous_readers_lose_a_public_acl_once_acls_are_disabled(box):
    import requests

    s3 = box.client("s3")
    bucket = f"anon-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>", ACL="public-read")
    url = f"{box.gateway_url}/{bucket}/page.html"
    assert requests.get(url, timeout=10).status_code == 200
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    assert requests.get(url, timeout=10).status_code == 403


# --- the journal: why a call was refused ------------------------------------------------------------------


def _journal_html(box) -> str:
    from django.test import Client
    from django.urls import reverse

    from labapp.sandbox import client as sandbox_client

    sandbox_client.flush_journal()
    browser = Client()
    browser.force_login(box.session.user)
    response = browser.get(
        reverse("panel-journal", args=[box.session.pk]), {"after": 0}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_journal_shows_which_statement_denied_and_when_no_policy_allows(box):
    from labapp.labs.models import ApiCall

    bucket = f"why-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    xena = user_keys(
        box,
        "xena",
        attach=["arn:aws:iam::aws:policy/AmazonS3FullAccess"],
        inline=doc(deny("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*", Sid="NoDeletes")),
    )
    denied(xena.client("s3").delete_object, Bucket=bucket, Key="a.txt")
    denied(xena.client("iam").list_roles)

    html = _journal_html(box)
    delete = ApiCall.objects.get(session=box.session, action="DeleteObject")
    detail = delete.params["AccessDeniedBy"]
    assert detail["decision"] == "explicitDeny"
    assert {"policy": "user/xena:inline", "sid": "NoDeletes", "effect": "Deny"}.items() <= detail[
        "statements"
    ][0].items()
    # Under the red row: a <details> with the verdict, AWS's message and the statement that denied.
    section = html.split(f'data-denial-for="{delete.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "<details>" in section and "Explicit deny in an identity-based policy" in section
    assert "s3:DeleteObject" in section and "NoDeletes" in section and "user/xena:inline" in section
    # The parameters column no longer repeats the reason.
    row = html.split(f'data-call-id="{delete.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "AccessDenied" not in row.split('class="params">', 1)[1].split("</td>", 1)[0]

    roles = ApiCall.objects.get(session=box.session, action="ListRoles")
    section = html.split(f'data-denial-for="{roles.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Implicit deny: no identity-based policy allows iam:ListRoles" in section
    assert "No statement of any policy allows this call" in section

    # The statements are the journal's: the caller sees AWS's answer only.
    with pytest.raises(ClientError) as raised:
        xena.client("iam").list_roles()
    headers = raised.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert not [name for name in headers if name.lower().startswith("x-lab-")]


def test_reencrypt_needs_both_keys_and_pass_role_names_the_service(box):
    kms = box.client("kms")
    source = kms.create_key()["KeyMetadata"]["KeyId"]
    target = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=source, Plaintext=b"r")["CiphertextBlob"]
    yuri = user_keys(box, "yuri", inline=doc(allow("kms:ReEncryptFrom", "*")))
    message = denied(
        yuri.client("kms").re_encrypt,
        CiphertextBlob=blob,
        DestinationKeyId=target,
        code="AccessDeniedException",
    )
    assert "kms:ReEncryptTo" in message
    box.client("iam").put_user_policy(
        UserName="yuri", PolicyName="inline", PolicyDocument=doc(allow("kms:ReEncrypt*", "*"))
    )
    assert (
        yuri.client("kms").re_encrypt(CiphertextBlob=blob, DestinationKeyId=target)["KeyId"].endswith(target)
    )

    # Lambda's CreateFunction hands the role to lambda.amazonaws.com: iam:PassedToService says so.
    role = box.client("iam").create_role(
        RoleName="fn-exec",
        AssumeRolePolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    zoe = user_keys(
        box,
        "zoe",
        inline=doc(
            allow("lambda:CreateFunction"),
            allow(
                "iam:PassRole",
                role,
                Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
        ),
    )
    create = {
        "FunctionName": "zoe-fn",
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "index.handler",
        "Code": {"ZipFile": _zip()},
    }
    assert "iam:PassRole" in denied(
        zoe.client("lambda").create_function, **create, code="AccessDeniedException"
    )
    box.client("iam").put_user_policy(
        UserName="zoe",
        PolicyName="inline",
        PolicyDocument=doc(
            allow("lambda:CreateFunction"),
            allow(
                "iam:PassRole",
                role,
                Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
        ),
    )
    assert zoe.client("lambda").create_function(**create)["FunctionName"] == "zoe-fn"


def test_block_public_access_refuses_writing_a_public_policy_or_acl_for_every_caller(box):
    s3 = box.client("s3")
    bucket = f"bpa-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    public = doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    )
    # The sandbox's administrator too: Block Public Access is not a permission.
    assert "BlockPublicPolicy" in denied(s3.put_bucket_policy, Bucket=bucket, Policy=public)
    assert "BlockPublicAcls" in denied(s3.put_object, Bucket=bucket, Key="a", Body=b"a", ACL="public-read")
    denied(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")
    # Not public: a policy for the account's own principals, a private object.
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{box.account_id}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ),
    )
    s3.put_object(Bucket=bucket, Key="a", Body=b"a", ACL="private")
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=public)


def test_dynamodb_batch_calls_are_checked_on_each_table_with_its_keys(box):
    ddb_admin = box.client("dynamodb")
    for name in ("inbox", "audit"):
        ddb_admin.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "owner", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    inbox = f"arn:aws:dynamodb:us-east-1:{box.account_id}:table/inbox"
    abe = user_keys(
        box,
        "abe",
        inline=doc(
            allow(
                ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
                inbox,
                Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
            )
        ),
    )
    ddb = abe.client("dynamodb")
    ddb.batch_write_item(RequestItems={"inbox": [{"PutRequest": {"Item": {"owner": {"S": "abe"}}}}]})
    got = ddb.batch_get_item(RequestItems={"inbox": {"Keys": [{"owner": {"S": "abe"}}]}})
    assert got["Responses"]["inbox"] == [{"owner": {"S": "abe"}}]
    # Someone else's partition, or a second table the policy does not name: refused.
    denied(
        ddb.batch_get_item,
        RequestItems={"inbox": {"Keys": [{"owner": {"S": "abe"}}, {"owner": {"S": "bea"}}]}},
        code="AccessDeniedException",
    )
    message = denied(
        ddb.batch_write_item,
        RequestItems={
            "inbox": [{"PutRequest": {"Item": {"owner": {"S": "abe"}}}}],
            "audit": [{"PutRequest": {"Item": {"owner": {"S": "abe"}}}}],
        },
        code="AccessDeniedException",
    )
    assert "table/audit" in message


def test_graders_iam_access_sees_function_and_secret_policies_and_grants(box):
    from labapp.sandbox import client as sandbox_client

    lambda_function(box, "graded")
    box.client("iam").create_user(UserName="cora")
    cora = arn_of(box, "cora")
    box.client("lambda").add_permission(
        FunctionName="graded", StatementId="cora-invokes", Action="lambda:InvokeFunction", Principal=cora
    )
    secret = box.client("secretsmanager").create_secret(Name="graded-secret", SecretString="s")["ARN"]
    box.client("secretsmanager").put_resource_policy(
        SecretId=secret,
        ResourcePolicy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": cora},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    key = box.client("kms").create_key()["KeyMetadata"]["Arn"]
    box.client("kms").create_grant(KeyId=key, GranteePrincipal=cora, Operations=["Decrypt"])

    def allowed(action, resource):
        return sandbox_client.iam_access(box.account_id, cora, action, resource)["allowed"]

    function = f"arn:aws:lambda:us-east-1:{box.account_id}:function:graded"
    assert allowed("lambda:InvokeFunction", function)
    assert not allowed("lambda:DeleteFunction", function)
    assert allowed("secretsmanager:GetSecretValue", secret)
    assert allowed("kms:Decrypt", key) and not allowed("kms:Encrypt", key)
