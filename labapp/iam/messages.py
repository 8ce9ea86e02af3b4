"""AWS's wording of a refusal ("Access denied error messages" in the IAM User Guide):

    User: arn:aws:iam::111122223333:user/bob is not authorized to perform: s3:PutObject on resource:
    "arn:aws:s3:::b/k" because no identity-based policy allows the s3:PutObject action

and `... with an explicit deny in an identity-based policy` / `a resource-based policy` / `a permissions
boundary` / `a session policy`. S3 quotes the resource ARN, most services do not; a request without a
resource (`*`) leaves out the `on resource:` part, as AWS does for such actions.
"""

from __future__ import annotations

from .model import BOUNDARY, EXPLICIT_DENY, IDENTITY, RESOURCE, SESSION

_ARTICLE = {IDENTITY: "an", RESOURCE: "a", BOUNDARY: "a", SESSION: "a"}
QUOTING_SERVICES = frozenset({"s3"})


def refusal(principal_arn: str, action: str, resource: str, effect: str, policy_type: str,
            quote_resource: bool | None = None) -> str:
    if quote_resource is None:
        quote_resource = action.split(":", 1)[0].lower() in QUOTING_SERVICES
    head = f"User: {principal_arn} is not authorized to perform: {action}"
    if resource and resource != "*":
        head += f' on resource: "{resource}"' if quote_resource else f" on resource: {resource}"
    if effect == EXPLICIT_DENY:
        return f"{head} with an explicit deny in {_ARTICLE.get(policy_type, 'a')} {policy_type}"
    return f"{head} because no {policy_type} allows the {action} action"
