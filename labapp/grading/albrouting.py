"""Where an Application Load Balancer listener sends a request, decided the way ELB decides it.

The rules of a listener are evaluated in priority order (lowest number first); the first rule whose
conditions all match wins, and the default action applies when none does. A rule's terminal action
(the last by `Order`: forward, redirect or fixed-response; authenticate-* actions come before it) is
what happens to the request. A weighted forward sends to every target group with a weight above zero.

Path patterns follow ELB's documented wildcard semantics: `*` matches zero or more characters, `?`
exactly one, nothing else is special, the match is case-sensitive and covers the whole path (never the
query string). Host patterns use the same wildcards but compare case-insensitively.

The graded request is plain: a GET for a path, sent to the load balancer's own DNS name, with no
particular header, query string or source address. A rule that also needs such a condition (a header,
a query parameter, a source IP range, another host) therefore does not match it, as it would not on AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TERMINAL = ("forward", "redirect", "fixed-response")


def wildcard_regex(pattern: str, *, ignore_case: bool = False) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def path_matches(pattern: str, path: str) -> bool:
    path = path.split("?", 1)[0]
    return wildcard_regex(pattern).fullmatch(path) is not None


def host_matches(pattern: str, host: str) -> bool:
    return wildcard_regex(pattern, ignore_case=True).fullmatch(host) is not None


def condition_values(cond: dict, config_key: str) -> list[str]:
    return list((cond.get(config_key) or {}).get("Values") or cond.get("Values") or [])


@dataclass(frozen=True)
class Request:
    path: str
    host: str = ""
    method: str = "GET"


def condition_matches(cond: dict, req: Request) -> bool:
    field_ = cond.get("Field")
    if field_ == "path-pattern":
        return any(path_matches(p, req.path) for p in condition_values(cond, "PathPatternConfig"))
    if field_ == "host-header":
        return any(host_matches(p, req.host) for p in condition_values(cond, "HostHeaderConfig"))
    if field_ == "http-request-method":
        return req.method in condition_values(cond, "HttpRequestMethodConfig")
    # http-header, query-string, source-ip: the plain request carries nothing they could match.
    return False


def rule_matches(rule: dict, req: Request, assume: tuple[dict, ...] = ()) -> bool:
    """`assume`: conditions the request is taken to meet (e.g. a header a probe for that rule would send)."""
    conditions = rule.get("Conditions") or []
    return bool(conditions) and all(c in assume or condition_matches(c, req) for c in conditions)


def terminal_action(actions: list[dict]) -> dict | None:
    ordered = sorted(actions or [], key=lambda a: a.get("Order") or 0)
    final = [a for a in ordered if a.get("Type") in TERMINAL]
    return final[-1] if final else None


def forward_weights(action: dict) -> dict[str, int]:
    """Target group ARN -> weight for a forward action (simple form: one group, weight 1)."""
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    if groups:
        return {g["TargetGroupArn"]: int(g.get("Weight", 1) if g.get("Weight") is not None else 1)
                for g in groups if g.get("TargetGroupArn")}
    return {action["TargetGroupArn"]: 1} if action.get("TargetGroupArn") else {}


@dataclass
class Route:
    """What happens to one request: which rule decided (None: the default action) and its action."""

    rule: dict | None
    action: dict | None
    weights: dict[str, int] = field(default_factory=dict)

    @property
    def receivers(self) -> set[str]:
        """Target group ARNs that get some of these requests."""
        live = {arn for arn, w in self.weights.items() if w > 0}
        return live or set(self.weights)  # all weights 0: ELB still needs a target; count them all

    def only_to(self, arn: str) -> bool:
        return self.action is not None and self.action.get("Type") == "forward" and self.receivers == {arn}


def priority(rule: dict) -> float:
    try:
        return int(rule.get("Priority"))
    except (TypeError, ValueError):
        return float("inf")  # "default"


def route(rules: list[dict], default_actions: list[dict], req: Request, assume: tuple[dict, ...] = ()) -> Route:
    for rule in sorted((r for r in rules if not r.get("IsDefault")), key=priority):
        if rule_matches(rule, req, assume):
            action = terminal_action(rule.get("Actions") or [])
            return Route(rule, action, forward_weights(action) if action else {})
    action = terminal_action(default_actions)
    return Route(None, action, forward_weights(action) if action else {})


def probe_for(rule: dict, default_host: str) -> tuple[Request, tuple[dict, ...]]:
    """A request the rule is written for (its first path, host and method, wildcards filled in) and the
    conditions the plain request cannot carry (header, query string, source IP), to be assumed met: if any
    request reaches the rule, this one does, unless a rule before it takes it."""
    req, assume = {"path": "/", "host": default_host, "method": "GET"}, []
    for cond in rule.get("Conditions") or []:
        field_ = cond.get("Field")
        key = {"path-pattern": ("path", "PathPatternConfig"), "host-header": ("host", "HostHeaderConfig"),
               "http-request-method": ("method", "HttpRequestMethodConfig")}.get(field_)
        values = condition_values(cond, key[1]) if key else []
        if key and values:
            req[key[0]] = values[0].replace("*", "example").replace("?", "x")
        else:
            assume.append(cond)
    return Request(req["path"], req["host"], req["method"]), tuple(assume)
