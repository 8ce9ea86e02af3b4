"""What an IAM decision costs (labapp/iam): a principal with 10 attached policies of 20 statements each, every
statement with conditions (and some with policy variables), asked about a rotating set of requests (S3,
DynamoDB, SQS, KMS; allowed, implicitly and explicitly denied). Compiled policies are cached, as the gateway
will have them.

Each iteration builds the request (as the gateway will, per call) and evaluates it; the baseline is the same
loop without the evaluation. Both loops are interleaved (ABBA) so load from other processes lands on both.
Prints p50 and p95 of each side and of the added cost. Target: added p50 under 0.3 ms, p95 under 1 ms.

    .venv/bin/python bench/iam_eval.py [--n 20000] [--warmup 2000]
"""

from __future__ import annotations

import argparse
import random
import time

from _sandbox_bench import percentiles

from labapp.iam import Policy, Principal, Request, evaluate

TARGET_P50_MS, TARGET_P95_MS = 0.3, 1.0
ACCOUNT = "111122223333"

_ACTIONS = ["s3:Get*", "s3:PutObject", "s3:List*", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem",
            "sqs:SendMessage", "sqs:ReceiveMessage", "kms:Decrypt", "kms:GenerateDataKey", "s3:*",
            "ec2:Describe*"]
_RESOURCES = ["arn:aws:s3:::data-@/${aws:username}/*", "arn:aws:s3:::reports-@/*",
              f"arn:aws:dynamodb:*:{ACCOUNT}:table/orders-@", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-@",
              f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*", "*"]
_CONDITIONS = [
    {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
    {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "shared/*"]}},
    {"StringEquals": {"aws:PrincipalTag/team": "data"},
     "DateLessThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}},
    {"NumericLessThanEquals": {"s3:max-keys": "100"}, "StringEqualsIfExists": {"s3:x-amz-acl": "private"}},
]

DENY_CONDITION = {"Bool": {"aws:SecureTransport": "false"}}


def build_principal(policies: int = 10, statements: int = 20, seed: int = 7) -> Principal:
    rnd = random.Random(seed)
    docs = []
    for p in range(policies):
        sts = []
        for s in range(statements):
            deny = s % 7 == 6  # a few Denies whose conditions rarely hold
            st = {"Sid": f"P{p}S{s}", "Effect": "Deny" if deny else "Allow",
                  "Action": rnd.sample(_ACTIONS, 2),
                  "Resource": [rnd.choice(_RESOURCES).replace("@", str(rnd.randrange(5))) for _ in range(2)],
                  "Condition": DENY_CONDITION if deny else rnd.choice(_CONDITIONS)}
            sts.append(st)
        docs.append(Policy({"Version": "2012-10-17", "Statement": sts},
                           f"arn:aws:iam::{ACCOUNT}:policy/bench-{p}"))
    return Principal.user(ACCOUNT, "bob", identity_policies=docs, tags={"team": "data"})


REQUESTS = [
    ("s3:GetObject", "arn:aws:s3:::data-1/bob/report.csv"),
    ("s3:PutObject", "arn:aws:s3:::reports-2/q3.csv"),
    ("s3:ListBucket", "arn:aws:s3:::data-3"),
    ("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-0"),
    ("dynamodb:DeleteTable", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-0"),
    ("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-4"),
    ("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"),
    ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/eve"),
]
CONTEXT = {"aws:SourceIp": "203.0.113.9", "aws:SecureTransport": "true", "aws:RequestedRegion": "us-east-1",
           "s3:prefix": "home/bob/", "s3:max-keys": "50", "aws:TagKeys": ["env"]}


def with_evaluation(principal, i):
    action, resource = REQUESTS[i % len(REQUESTS)]
    start = time.perf_counter_ns()
    request = Request(action, (resource,), CONTEXT)
    decision = evaluate(principal, request)
    elapsed = time.perf_counter_ns() - start
    assert decision.error is None, decision.error
    return elapsed / 1e6


def baseline(principal, i):
    action, resource = REQUESTS[i % len(REQUESTS)]
    start = time.perf_counter_ns()
    request = Request(action, (resource,), CONTEXT)
    elapsed = time.perf_counter_ns() - start
    assert request.action
    return elapsed / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=2000)
    args = parser.parse_args()

    principal = build_principal()
    decisions = {a: evaluate(principal, Request(a, (r,), CONTEXT)).reason_kind for a, r in REQUESTS}
    print("requests:", ", ".join(f"{a}={k}" for a, k in decisions.items()))
    for i in range(args.warmup):
        with_evaluation(principal, i)
        baseline(principal, i)
    evaluated, bare = [], []
    cpu_start = time.process_time()
    for i in range(args.n):
        if i % 4 in (0, 3):
            bare.append(baseline(principal, i))
            evaluated.append(with_evaluation(principal, i))
        else:
            evaluated.append(with_evaluation(principal, i))
            bare.append(baseline(principal, i))
    cpu_ms = (time.process_time() - cpu_start) * 1000 / args.n
    (b50, b95), (e50, e95) = percentiles(bare), percentiles(evaluated)
    added = [e - b for e, b in zip(evaluated, bare)]
    a50, a95 = percentiles(added)
    print(f"principal: 10 policies x 20 statements with conditions; {args.n} calls per side")
    print(f"{'':14}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'baseline':14}{b50:10.4f}{b95:10.4f}")
    print(f"{'evaluated':14}{e50:10.4f}{e95:10.4f}")
    print(f"{'added':14}{a50:10.4f}{a95:10.4f}   (target p50 < {TARGET_P50_MS}, p95 < {TARGET_P95_MS})")
    print(f"CPU per iteration pair: {cpu_ms:.4f} ms")
    ok = a50 < TARGET_P50_MS and a95 < TARGET_P95_MS
    print("OK" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
