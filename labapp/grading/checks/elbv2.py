"""Elastic Load Balancing (v2) check kinds: load balancers, target groups, listeners, rules, attributes.

The emulator stores configuration only: target health is always "healthy" and no traffic flows, so these
checks grade how the load balancer is wired, not what it would serve.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from .. import albrouting
from . import Check, CheckFailed, failed, passed, register, schema, string

LB = string("load balancer name")
TG = string("target group name")
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
LB_TYPES = {"application": "an Application Load Balancer", "network": "a Network Load Balancer",
            "gateway": "a Gateway Load Balancer"}


def find_lb(ctx, name: str) -> dict:
    try:
        lbs = ctx.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    except ClientError as err:
        if "NotFound" in err.response.get("Error", {}).get("Code", ""):
            raise CheckFailed(f"load balancer {name} does not exist") from err
        raise
    if not lbs:
        raise CheckFailed(f"load balancer {name} does not exist")
    return lbs[0]


def find_tg(ctx, name: str) -> dict:
    try:
        tgs = ctx.client("elbv2").describe_target_groups(Names=[name])["TargetGroups"]
    except ClientError as err:
        if "NotFound" in err.response.get("Error", {}).get("Code", ""):
            raise CheckFailed(f"target group {name} does not exist") from err
        raise
    if not tgs:
        raise CheckFailed(f"target group {name} does not exist")
    return tgs[0]


def tg_names(ctx) -> dict[str, str]:
    return {t["TargetGroupArn"]: t["TargetGroupName"]
            for t in ctx.client("elbv2").describe_target_groups().get("TargetGroups", [])}


def describe_actions(actions: list[dict], names: dict[str, str]) -> str:
    parts = []
    for a in actions:
        if a.get("Type") == "forward":
            weights = albrouting.forward_weights(a)
            parts.append("forward to " + ", ".join(
                names.get(arn, arn) + (f" (weight {w})" if len(weights) > 1 else "") for arn, w in weights.items()))
        else:
            parts.append(str(a.get("Type")))
    return "; ".join(parts) or "no action"


def default_only_to(lis: dict, tg_name: str, names: dict[str, str]) -> bool:
    """The listener's default action forwards every request to this target group (a weighted forward
    counts only if no other group has a weight above zero)."""
    r = albrouting.route([], lis.get("DefaultActions", []), albrouting.Request("/"))
    return any(n == tg_name and r.only_to(arn) for arn, n in names.items())


def find_listener(ctx, lb: dict, port: int) -> dict:
    listeners = ctx.client("elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"]).get("Listeners", [])
    for lis in listeners:
        if lis.get("Port") == port:
            return lis
    ports = ", ".join(str(li.get("Port")) for li in listeners) or "none"
    raise CheckFailed(f"{lb['LoadBalancerName']} has no listener on port {port} (listener ports: {ports})")


def security_group_names(ctx, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    groups = ctx.client("ec2").describe_security_groups(GroupIds=ids)["SecurityGroups"]
    return {g["GroupId"]: g["GroupName"] for g in groups}


@register("elbv2.load_balancer")
class LoadBalancer(Check):
    description = ("The load balancer exists with the given type and scheme, spans at least `min_azs` Availability "
                   "Zones and (ALB) uses the named security groups.")
    params_schema = schema(
        {"name": LB, "type": {"enum": list(LB_TYPES)},
         "scheme": {"enum": ["internet-facing", "internal"]},
         "min_azs": {"type": "integer", "minimum": 1, "maximum": 6},
         "security_groups": {"type": "array", "items": string("security group name"), "minItems": 1}},
        ["name"],
    )

    def run(self, ctx, *, name, type=None, scheme=None, min_azs=None, security_groups=None):
        lb = find_lb(ctx, name)
        if type and lb.get("Type") != type:
            return failed(f"{name} is {LB_TYPES.get(lb.get('Type'), lb.get('Type'))}, not {LB_TYPES[type]}")
        have_scheme = lb.get("Scheme") or "internet-facing"  # the API's default; the emulator may omit it
        if scheme and have_scheme != scheme:
            return failed(f"{name} is {have_scheme}, not {scheme}")
        zones = sorted({z.get("ZoneName") for z in lb.get("AvailabilityZones", [])})
        if min_azs and len(zones) < min_azs:
            return failed(f"{name} is only in {', '.join(zones) or 'no zone'} — give it subnets in at least "
                          f"{min_azs} Availability Zones")
        if security_groups:
            have = security_group_names(ctx, lb.get("SecurityGroups") or [])
            missing = [g for g in security_groups if g not in have.values()]
            if missing:
                return failed(f"{name} does not use the security group {', '.join(missing)} "
                              f"(it uses {', '.join(have.values()) or 'none'})")
        return passed(f"{name} is {LB_TYPES.get(lb.get('Type'), lb.get('Type'))} ({have_scheme}) in "
                      f"{', '.join(zones)}")


def instance_names(ctx, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    out = {}
    for res in ctx.client("ec2").describe_instances(InstanceIds=ids).get("Reservations", []):
        for inst in res.get("Instances", []):
            name = next((t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name"), inst["InstanceId"])
            out[inst["InstanceId"]] = name
    return out


@register("elbv2.target_group")
class TargetGroup(Check):
    description = ("The target group exists with the protocol, port and target type given, and the instances "
                   "tagged with the listed Name values are registered in it (optionally a health check path).")
    params_schema = schema(
        {"name": TG, "protocol": {"enum": ["HTTP", "HTTPS", "TCP", "UDP", "TLS", "TCP_UDP", "GENEVE"]},
         "port": PORT, "target_type": {"enum": ["instance", "ip", "lambda", "alb"]},
         "instances": {"type": "array", "items": string("Name tag of an instance"), "minItems": 1},
         "health_check_path": string("health check path, e.g. /health")},
        ["name"],
    )

    def run(self, ctx, *, name, protocol=None, port=None, target_type=None, instances=None,
            health_check_path=None):
        tg = find_tg(ctx, name)
        if protocol and tg.get("Protocol") != protocol:
            return failed(f"target group {name} uses {tg.get('Protocol')}, not {protocol}")
        if port and tg.get("Port") != port:
            return failed(f"target group {name} sends to port {tg.get('Port')}, not {port}")
        if target_type and tg.get("TargetType", "instance") != target_type:
            return failed(f"target group {name} has target type {tg.get('TargetType')}, not {target_type}")
        if health_check_path and tg.get("HealthCheckPath") != health_check_path:
            return failed(f"target group {name} health-checks {tg.get('HealthCheckPath') or 'no path'}, "
                          f"not {health_check_path}")
        if instances:
            health = ctx.client("elbv2").describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
            ids = [d["Target"]["Id"] for d in health.get("TargetHealthDescriptions", [])]
            names = instance_names(ctx, [i for i in ids if i.startswith("i-")])
            registered = set(names.values())
            missing = [n for n in instances if n not in registered]
            if missing:
                return failed(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not registered in "
                              f"target group {name} (registered: {', '.join(sorted(registered)) or 'nothing'})")
        return passed(f"target group {name} ({tg.get('Protocol')}:{tg.get('Port')}) is set up as asked")


@register("elbv2.listener")
class Listener(Check):
    description = "The load balancer has a listener on `port` with `protocol` whose default action forwards to `forward_to`."
    params_schema = schema(
        {"load_balancer": LB, "port": PORT,
         "protocol": {"enum": ["HTTP", "HTTPS", "TCP", "UDP", "TLS", "TCP_UDP", "GENEVE"]},
         "forward_to": TG},
        ["load_balancer", "port"],
    )

    def run(self, ctx, *, load_balancer, port, protocol=None, forward_to=None):
        lb = find_lb(ctx, load_balancer)
        lis = find_listener(ctx, lb, port)
        if protocol and lis.get("Protocol") != protocol:
            return failed(f"the listener on port {port} of {load_balancer} speaks {lis.get('Protocol')}, not {protocol}")
        if forward_to:
            names = tg_names(ctx)
            if not default_only_to(lis, forward_to, names):
                return failed(f"the default action of the listener on port {port} is "
                              f"{describe_actions(lis.get('DefaultActions', []), names)}, not forward (all "
                              f"requests) to {forward_to}")
        return passed(f"{load_balancer} listens on {lis.get('Protocol')}:{port}"
                      + (f" and forwards to {forward_to} by default" if forward_to else ""))


def describe_route(r: albrouting.Route, names: dict[str, str]) -> str:
    """What happens to a request, in the learner's terms."""
    who = (f"the rule with priority {r.rule.get('Priority')}" if r.rule is not None else "the default action")
    a = r.action
    if a is None:
        return f"{who} has no forward, redirect or fixed-response action"
    if a.get("Type") == "forward":
        parts = [names.get(arn, arn) + (f" (weight {w})" if len(r.weights) > 1 else "")
                 for arn, w in r.weights.items()]
        return f"{who} forwards them to {', '.join(parts) or 'nothing'}"
    if a.get("Type") == "redirect":
        return f"{who} redirects them"
    return f"{who} answers them with a fixed response"


def listener_rules(ctx, lis: dict) -> list[dict]:
    return ctx.client("elbv2").describe_rules(ListenerArn=lis["ListenerArn"]).get("Rules", [])


def rule_paths(rule: dict) -> list[str]:
    return [p for c in rule.get("Conditions", []) if c.get("Field") == "path-pattern"
            for p in albrouting.condition_values(c, "PathPatternConfig")]


def example_path(pattern: str) -> str:
    """A request path the pattern is meant for: /api/* -> /api/example."""
    return pattern.replace("*", "example").replace("?", "x")


ROUTE = {"type": "object", "additionalProperties": False, "required": ["path", "to"],
         "properties": {"path": string("request path, e.g. /api/orders"),
                        "to": string("target group that must receive every such request")}}


def check_routes(ctx, load_balancer: str, port: int, routes: list[dict]):
    """Fail on the first request that does not reach its target group; else a summary of the routes."""
    lb = find_lb(ctx, load_balancer)
    lis = find_listener(ctx, lb, port)
    rules = listener_rules(ctx, lis)
    names = tg_names(ctx)
    arns = {v: k for k, v in names.items()}
    host = lb.get("DNSName") or ""
    done = []
    for want in routes:
        path, to = want["path"], want["to"]
        r = albrouting.route(rules, lis.get("DefaultActions", []), albrouting.Request(path, host))
        if to not in arns or not r.only_to(arns[to]):
            patterns = ", ".join(f"{p} (priority {x.get('Priority')})" for x in rules if not x.get("IsDefault")
                                 for p in rule_paths(x)) or "none"
            return failed(f"a request for {path} should reach {to}, but {describe_route(r, names)} "
                          f"(path patterns on port {port}: {patterns}; rules are tried lowest priority first "
                          "and patterns are case-sensitive)")
        done.append(f"{path} -> {to}")
    return passed(f"on port {port}: " + "; ".join(done))


@register("elbv2.routes")
class Routes(Check):
    description = ("Each listed request path, sent to the listener on `port`, reaches only the given target group: "
                   "rules tried by priority with ELB path wildcards (* and ?, case-sensitive), weighted forwards "
                   "and the default action taken into account.")
    params_schema = schema(
        {"load_balancer": LB, "port": PORT, "routes": {"type": "array", "minItems": 1, "items": ROUTE}},
        ["load_balancer", "port", "routes"],
    )

    def run(self, ctx, *, load_balancer, port, routes):
        return check_routes(ctx, load_balancer, port, routes)


@register("elbv2.listener_rule")
class ListenerRule(Check):
    description = ("A rule of the listener on `port` with the path pattern `path` (e.g. /api/*) decides requests "
                   "for it and forwards them to `forward_to`: a higher-priority rule must not take them first.")
    params_schema = schema(
        {"load_balancer": LB, "port": PORT, "path": string("path pattern, e.g. /api/*"), "forward_to": TG},
        ["load_balancer", "port", "path", "forward_to"],
    )

    def run(self, ctx, *, load_balancer, port, path, forward_to):
        lb = find_lb(ctx, load_balancer)
        lis = find_listener(ctx, lb, port)
        rules = [r for r in listener_rules(ctx, lis) if not r.get("IsDefault")]
        if not any(path in rule_paths(r) for r in rules):
            seen = ", ".join(p for r in rules for p in rule_paths(r)) or "none"
            hint = f" (a pattern without * matches only {path.rstrip('*')} itself)" if path.endswith("*") else ""
            return failed(f"no rule of the listener on port {port} matches the path {path} "
                          f"(path patterns in its rules: {seen}){hint}")
        return check_routes(ctx, load_balancer, port, [{"path": example_path(path), "to": forward_to}])


def tg_attributes(ctx, name: str) -> dict[str, str]:
    tg = find_tg(ctx, name)
    attrs = ctx.client("elbv2").describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])
    return {a["Key"]: a.get("Value") for a in attrs.get("Attributes", [])}


@register("elbv2.stickiness")
class Stickiness(Check):
    description = ("Sticky sessions are enabled on the target group with the cookie type given "
                   "(lb_cookie: duration in seconds; app_cookie: the application's cookie name).")
    params_schema = schema(
        {"target_group": TG, "type": {"enum": ["lb_cookie", "app_cookie", "source_ip"]},
         "duration_seconds": {"type": "integer", "minimum": 1, "maximum": 604800},
         "cookie_name": string("the application's cookie name (app_cookie)")},
        ["target_group"],
    )

    def run(self, ctx, *, target_group, type=None, duration_seconds=None, cookie_name=None):
        attrs = tg_attributes(ctx, target_group)
        if str(attrs.get("stickiness.enabled", "false")).lower() != "true":
            return failed(f"stickiness is not enabled on {target_group} (stickiness.enabled is "
                          f"{attrs.get('stickiness.enabled', 'false')})")
        kind = attrs.get("stickiness.type", "lb_cookie")
        if type and kind != type:
            return failed(f"{target_group} uses {kind} stickiness, not {type}")
        if duration_seconds:
            key = "stickiness.app_cookie.duration_seconds" if kind == "app_cookie" else \
                "stickiness.lb_cookie.duration_seconds"
            have = attrs.get(key, "86400")
            if str(have) != str(duration_seconds):
                return failed(f"the stickiness cookie of {target_group} lasts {have} seconds, not {duration_seconds}")
        if cookie_name and attrs.get("stickiness.app_cookie.cookie_name") != cookie_name:
            return failed(f"{target_group} follows the cookie {attrs.get('stickiness.app_cookie.cookie_name') or 'none'}, "
                          f"not {cookie_name}")
        return passed(f"{target_group} has {kind} stickiness enabled")


@register("elbv2.target_group_attribute")
class TargetGroupAttribute(Check):
    description = "A target group attribute has the given value (e.g. deregistration_delay.timeout_seconds = 30)."
    params_schema = schema(
        {"target_group": TG, "key": string("attribute key"), "value": string("expected value, as text")},
        ["target_group", "key", "value"],
    )

    def run(self, ctx, *, target_group, key, value):
        attrs = tg_attributes(ctx, target_group)
        have = attrs.get(key)
        if str(have).lower() != str(value).lower():
            return failed(f"{key} of {target_group} is {have if have is not None else 'not set'}, not {value}")
        return passed(f"{key} of {target_group} is {value}")


@register("elbv2.load_balancer_attribute")
class LoadBalancerAttribute(Check):
    description = "A load balancer attribute has the given value (e.g. load_balancing.cross_zone.enabled = true)."
    params_schema = schema(
        {"load_balancer": LB, "key": string("attribute key"), "value": string("expected value, as text")},
        ["load_balancer", "key", "value"],
    )

    def run(self, ctx, *, load_balancer, key, value):
        lb = find_lb(ctx, load_balancer)
        attrs = ctx.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])
        have = {a["Key"]: a.get("Value") for a in attrs.get("Attributes", [])}.get(key)
        if str(have).lower() != str(value).lower():
            return failed(f"{key} of {load_balancer} is {have if have is not None else 'not set'}, not {value}")
        return passed(f"{key} of {load_balancer} is {value}")


@register("elbv2.elastic_ips")
class ElasticIps(Check):
    description = ("Every Availability Zone of the (network) load balancer has one of your Elastic IPs "
                   "(subnet mappings with an AllocationId), and it spans at least `min_azs` zones.")
    params_schema = schema(
        {"load_balancer": LB, "min_azs": {"type": "integer", "minimum": 1, "maximum": 6}},
        ["load_balancer"],
    )

    def run(self, ctx, *, load_balancer, min_azs=1):
        lb = find_lb(ctx, load_balancer)
        zones = lb.get("AvailabilityZones", [])
        if len(zones) < min_azs:
            return failed(f"{load_balancer} is in only {len(zones)} zone(s), not at least {min_azs}")
        missing = [z.get("ZoneName") for z in zones
                   if not any(a.get("AllocationId") for a in z.get("LoadBalancerAddresses") or [])]
        if missing:
            return failed(f"{load_balancer} has no Elastic IP in {', '.join(missing)} — create it with "
                          "--subnet-mappings SubnetId=...,AllocationId=eipalloc-... for each zone")
        ips = [a.get("IpAddress") for z in zones for a in z.get("LoadBalancerAddresses") or []]
        return passed(f"{load_balancer} answers on the Elastic IPs {', '.join(ips)}")


@register("elbv2.https_listener")
class HttpsListener(Check):
    description = ("The load balancer has an HTTPS listener on `port` with an ACM certificate for `domain` "
                   "(optionally: forwarding to `forward_to` by default).")
    params_schema = schema(
        {"load_balancer": LB, "port": PORT, "domain": string("domain name the certificate must cover"),
         "forward_to": TG},
        ["load_balancer", "domain"],
    )

    def run(self, ctx, *, load_balancer, domain, port=443, forward_to=None):
        lb = find_lb(ctx, load_balancer)
        lis = find_listener(ctx, lb, port)
        if lis.get("Protocol") != "HTTPS":
            return failed(f"the listener on port {port} of {load_balancer} speaks {lis.get('Protocol')}, not HTTPS")
        acm = ctx.client("acm")
        domains = []
        for cert in lis.get("Certificates") or []:
            arn = cert.get("CertificateArn", "")
            if ":acm:" not in arn:
                continue
            info = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            names = {info.get("DomainName"), *(info.get("SubjectAlternativeNames") or [])}
            domains += sorted(n for n in names if n)
            if domain in names or any(n.startswith("*.") and domain.endswith(n[1:]) for n in names if n):
                break
        else:
            have = ", ".join(domains) or "no ACM certificate"
            return failed(f"the HTTPS listener of {load_balancer} has no certificate for {domain} ({have})")
        if forward_to:
            names = tg_names(ctx)
            if not default_only_to(lis, forward_to, names):
                return failed(f"the HTTPS listener's default action is "
                              f"{describe_actions(lis.get('DefaultActions', []), names)}, not forward to {forward_to}")
        return passed(f"{load_balancer} serves HTTPS on {port} with a certificate for {domain}")


@register("elbv2.listener_redirect")
class ListenerRedirect(Check):
    description = "The listener on `port` redirects every request (its default action) to HTTPS on `to_port` with `status_code`."
    params_schema = schema(
        {"load_balancer": LB, "port": PORT, "to_port": PORT,
         "status_code": {"enum": ["HTTP_301", "HTTP_302"]}},
        ["load_balancer", "port"],
    )

    def run(self, ctx, *, load_balancer, port, to_port=443, status_code="HTTP_301"):
        lb = find_lb(ctx, load_balancer)
        lis = find_listener(ctx, lb, port)
        redirects = [a for a in lis.get("DefaultActions", []) if a.get("Type") == "redirect"]
        if not redirects:
            got = describe_actions(lis.get("DefaultActions", []), tg_names(ctx))
            return failed(f"the listener on port {port} does {got} — it should redirect to HTTPS")
        conf = redirects[0].get("RedirectConfig") or {}
        if (conf.get("Protocol") or "#{protocol}") != "HTTPS":
            return failed(f"the redirect on port {port} keeps protocol {conf.get('Protocol') or '#{protocol}'}, "
                          "it must go to HTTPS")
        if str(conf.get("Port") or "#{port}") != str(to_port):
            return failed(f"the redirect on port {port} goes to port {conf.get('Port') or '#{port}'}, not {to_port}")
        if conf.get("StatusCode") != status_code:
            return failed(f"the redirect uses {conf.get('StatusCode')}, not {status_code}"
                          + (" (a permanent redirect)" if status_code == "HTTP_301" else ""))
        return passed(f"port {port} of {load_balancer} redirects to HTTPS:{to_port} with {status_code}")
