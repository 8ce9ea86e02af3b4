"""Wildcard matching: the automaton used for many-`*` patterns agrees with the regex, and a crafted pattern
cannot stall an evaluation."""

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from labapp.iam import Policy, Principal, Request, evaluate
from labapp.iam.matching import Pattern, _Automaton, _literal_tokens


def _regex(tokens):
    return re.compile("".join(re.escape(d) if k == "L" else (".*" if d else "[^:]*") if k == "*"
                              else ("." if d else "[^:]") for k, d in tokens), re.DOTALL)


@settings(max_examples=400, deadline=None)
@given(pattern=st.text(alphabet="ab:*?", max_size=10), value=st.text(alphabet="ab:", max_size=12),
       arn=st.booleans())
def test_the_automaton_and_the_regex_agree(pattern, value, arn):
    tokens = tuple(_literal_tokens(pattern, arn, False))
    assert bool(_Automaton(tokens, False).fullmatch(value)) == bool(_regex(tokens).fullmatch(value))


def test_arn_wildcards_stay_in_their_segment_unless_they_end_it():
    assert Pattern("arn:aws:s3:::bkt/*.csv", arn=True).matches("arn:aws:s3:::bkt/a/b.csv")
    assert not Pattern("arn:aws:s3:::bkt/*.csv", arn=True).matches("arn:aws:s3:::bkt/a:b.csv")
    assert Pattern("arn:aws:s3:::bkt/**", arn=True).matches("arn:aws:s3:::bkt/a:b.csv")
    assert Pattern("arn:aws:*", arn=True).matches("arn:aws:sqs:us-east-1:111122223333:q")
    assert Pattern("a*b*c*d", ignore_case=True).matches("AxxBxxCxxD")


def test_a_crafted_pattern_does_not_stall_evaluation():
    evil = "arn:aws:s3:::b/" + "*a" * 40 + "*c"
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": evil,
                 "Condition": {"StringLike": {"s3:prefix": "*a" * 40 + "*c"}}}
    bob = Principal.user("111122223333", "bob",
                         identity_policies=[Policy({"Version": "2012-10-17", "Statement": [statement]})])
    start = time.perf_counter()
    d = evaluate(bob, Request("s3:GetObject", "arn:aws:s3:::b/" + "a" * 600, {"s3:prefix": "a" * 600}))
    assert not d.allowed and d.error is None
    assert time.perf_counter() - start < 2.0
