import ipaddress
import re

import pytest
from botocore.exceptions import ClientError

from labapp.grading.checks import Check, CheckContext, CheckOutcome, register
from labapp.grading.grader import grade, run_check
from labapp.grading.parameters import GENERATORS, bucket_name, generate_params, learner_ipv4


@register("test.fixed")
class Fixed(Check):
    params_schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "say": {"type": "string"}}}

    def run(self, ctx, *, ok, say="fixed"):
        return CheckOutcome(ok, say)


@register("test.raises")
class Raises(Check):
    params_schema = {"type": "object", "properties": {"code": {"type": "string"}, "bucket": {"type": "string"}}}

    def run(self, ctx, *, code, bucket=""):
        if code == "boom":
            raise RuntimeError("boom")
        raise ClientError({"Error": {"Code": code, "Message": f"The user with name {bucket} cannot be found."}},
                          "SomeOp")


def task(points, *checks, id="t"):
    return {"id": id, "title": id.upper(), "points": points, "hint": "try harder", "checks": list(checks)}


def ok(weight=1, say="good"):
    return {"kind": "test.fixed", "ok": True, "say": say, "weight": weight}


def bad(weight=1, say="bad"):
    return {"kind": "test.fixed", "ok": False, "say": say, "weight": weight}


def test_all_pass_full_points_and_summary():
    result = grade({"tasks": [task(3, ok(say="a"), ok(say="b"))]}, {}, CheckContext())
    assert result == {"score": 3, "max_score": 3, "tasks": [
        {"id": "t", "title": "T", "points": 3, "max_points": 3, "passed": True, "feedback": "a; b", "hint": "try harder"}]}


def test_partial_credit_by_weight_rounds_down():
    result = grade({"tasks": [task(5, ok(weight=2), bad(say="first"), bad(say="second"))]}, {}, CheckContext())
    t = result["tasks"][0]
    assert (t["points"], t["passed"], t["feedback"]) == (2, False, "first")  # 5 * 2/4 = 2.5 -> 2
    result = grade({"tasks": [task(3, ok(), bad()), task(2, bad(), id="u")]}, {}, CheckContext())
    assert result["score"] == 1 and result["max_score"] == 5


def test_not_found_errors_become_plain_feedback():
    out = run_check({"kind": "test.raises", "code": "NoSuchBucket", "bucket": "{{ bucket }}"},
                    {"bucket": "site-x"}, CheckContext())
    assert out == CheckOutcome(False, "bucket site-x does not exist")
    out = run_check({"kind": "test.raises", "code": "NoSuchEntity", "bucket": "bob"}, {}, CheckContext())
    assert out == CheckOutcome(False, "The user with name bob cannot be found.")


def test_unexpected_errors_fail_the_check_not_the_grading(caplog):
    out = run_check({"kind": "test.raises", "code": "boom"}, {}, CheckContext())
    assert out == CheckOutcome(False, "could not check: RuntimeError: boom")
    out = run_check({"kind": "test.raises", "code": "ThrottlingException"}, {}, CheckContext())
    assert not out.passed and out.feedback.startswith("could not check: ThrottlingException")
    result = grade({"tasks": [task(2, {"kind": "test.raises", "code": "boom"}, ok())]}, {}, CheckContext())
    assert result["score"] == 1


def test_hint_and_title_are_templated():
    t = {"id": "t", "title": "Bucket {{ b }}", "points": 1, "hint": "Try {{ b }}", "checks": [bad()]}
    [result] = grade({"tasks": [t]}, {"b": "x1"}, CheckContext())["tasks"]
    assert (result["title"], result["hint"]) == ("Bucket x1", "Try x1")


def test_check_args_are_templated():
    out = run_check({"kind": "test.fixed", "ok": True, "say": "bucket {{ b }} ok"}, {"b": "x1"}, CheckContext())
    assert out.feedback == "bucket x1 ok"


# --- parameters ---------------------------------------------------------------------------------

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def test_bucket_names_are_valid_and_distinct():
    names = {bucket_name(prefix="site") for _ in range(500)}
    assert len(names) == 500
    for name in names:
        assert BUCKET_RE.match(name) and name.startswith("site-") and len(name) == 15 and ".." not in name


def test_learner_ipv4_unique_and_in_range():
    net = ipaddress.ip_network("198.18.0.0/15")
    addresses = [learner_ipv4(user_id=uid) for uid in range(1, 1001)]
    assert len(set(addresses)) == 1000
    for a in addresses:
        ip = ipaddress.ip_address(a)
        assert ip in net and a.rsplit(".", 1)[1] not in ("0", "255")
    assert learner_ipv4(user_id=7) == learner_ipv4(user_id=7)


def test_generate_params():
    definition = {"parameters": {
        "bucket": {"generate": "bucket_name", "prefix": "site"},
        "ip": {"generate": "learner_ipv4"},
        "color": {"generate": "choice", "values": ["red", "blue"]},
        "tag": {"generate": "random_suffix", "length": 6, "prefix": "t-"},
        "ami": {"generate": "fixed", "value": "ami-1"},
    }}
    params = generate_params(definition, user_id=3, account_id="123456789012")
    assert params["bucket"].startswith("site-") and params["ip"] == learner_ipv4(user_id=3)
    assert params["color"] in ("red", "blue") and re.fullmatch(r"t-[a-z0-9]{6}", params["tag"])
    assert params["ami"] == "ami-1"
    assert set(GENERATORS) >= {"bucket_name", "learner_ipv4", "choice", "random_suffix", "fixed"}


def test_unknown_generator_raises():
    with pytest.raises(KeyError):
        generate_params({"parameters": {"x": {"generate": "nope"}}}, user_id=1, account_id="1")
