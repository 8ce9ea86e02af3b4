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


def instance_names_by_ip(ctx, ips: list[str]) -> dict[str, str]:
    """IP targets (target type ip) named after the instance that holds the address."""
    if not ips:
        return {}
    out = {}
    pages = ctx.client("ec2").describe_instances(Filters=[{"Name": "private-ip-address", "Values": ips}])
    for res in pages.get("Reservations", []):
        for inst in res.get("Instances", []):
            name = next((t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name"), inst["InstanceId"])
            out[inst.get("PrivateIpAddress")] = name
    return out


@register("elbv2.target_group")
class TargetGroup(Check):
    description = ("The target group exists with the protocol, port and target type given, and the instances "
                   "tagged with the listed Name values are registered in it (optionally a health check path).")
    params_schema = schema(
        {"name": TG, "protocol": {"enum": ["HTTP", "HTTPS", "TCP", "UDP", "TLS", "TCP_UDP", "GENEVE"]},
         "port": PORT, "target_type": {"enum": ["instance", "ip", "lambda", "alb"]},
         "instances": {"type": "array", "items": string("Name tag of an instance"), "minItems": 1},
         "health_check_path": string("health check path, e.g. /health"),
         "only": {"type": "boolean", "default": False,
                  "description": "true: no other target may be registered (requests would reach it too)"}},
        ["name"],
    )

    def run(self, ctx, *, name, protocol=None, port=None, target_type=None, instances=None,
            health_check_path=None, only=False):
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
            names.update(instance_names_by_ip(ctx, [i for i in ids if not i.startswith("i-")]))
            registered = set(names.values())
            missing = [n for n in instances if n not in registered]
            if missing:
                return failed(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not registered in "
                              f"target group {name} (registered: {', '.join(sorted(registered)) or 'nothing'})")
            extra = sorted({names.get(i, i) for i in ids} - set(instances))
            if only and extra:
                return failed(f"target group {name} also holds {', '.join(extra)}, so some of its requests would "
                              f"reach {'it' if len(extra) == 1 else 'them'} — deregister {'it' if len(extra) == 1 else 'them'}")
        return passed(f"target group {name} ({tg.get('Protocol')}:{tg.get('Port')}) is set up as asked")


@register("elbv2.listener")
class Listener(Check):
    description = ("The load balancer has a listener on `port` with `protocol` that forwards every request to "
                   "`forward_to`: for HTTP(S), its rules by priority then its default action (a catch-all rule "
                   "counts; a rule sending some requests elsewhere does not); otherwise its default action.")
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
            problem = _listener_not_all_to(ctx, lb, lis, forward_to, names)
            if problem:
                return failed(problem)
        return passed(f"{load_balancer} listens on {lis.get('Protocol')}:{port}"
                      + (f" and forwards to {forward_to} by default" if forward_to else ""))


def _listener_not_all_to(ctx, lb: dict, lis: dict, tg_name: str, names: dict[str, str]) -> str | None:
    """Why not every request to the listener reaches only `tg_name` (None: all do). An HTTP(S) listener is
    judged as the ALB decides: rules by priority, then the default action, so a catch-all rule forwarding
    to the group is as good as the default action, and a rule sending some requests elsewhere is a leak."""
    port = lis.get("Port")
    default_problem = (f"the default action of the listener on port {port} is "
                       f"{describe_actions(lis.get('DefaultActions', []), names)}, not forward (all requests) "
                       f"to {tg_name}")
    if lis.get("Protocol") not in ("HTTP", "HTTPS"):  # no rules: the default action is all there is
        return None if default_only_to(lis, tg_name, names) else default_problem
    arn = next((a for a, n in names.items() if n == tg_name), None)
    rules = listener_rules(ctx, lis)
    host = lb.get("DNSName") or ""
    probes = [(albrouting.Request(path, host), ()) for path in SAMPLE_PATHS]
    probes += [albrouting.probe_for(rule, host) for rule in rules if not rule.get("IsDefault")]
    for req, assume in probes:
        r = albrouting.route(rules, lis.get("DefaultActions", []), req, assume)
        if arn is not None and r.only_to(arn):
            continue
        if r.rule is None:
            return default_problem
        where = f"…{req.path}" if req.host == host else f"{req.host}{req.path}"
        extra = " (with the header, query string or source address that rule asks for)" if assume else ""
        return (f"a request for {where}{extra} on port {port} does not reach {tg_name}: "
                f"{describe_route(r, names)} — every request must be forwarded to {tg_name}")
    return None


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


def forwards_to(ctx, tg_arn: str) -> list[tuple[str, dict]]:
    """(where, forward action) for every listener default action and rule action that sends to this group."""
    elb = ctx.client("elbv2")
    out = []
    for lb in elb.describe_load_balancers().get("LoadBalancers", []):
        for lis in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"]).get("Listeners", []):
            for rule in listener_rules(ctx, lis):
                action = albrouting.terminal_action(rule.get("Actions") or [])
                if action and action.get("Type") == "forward" and tg_arn in albrouting.forward_weights(action):
                    where = "default action" if rule.get("IsDefault") else f"rule {rule.get('Priority')}"
                    out.append((f"the {where} of {lb['LoadBalancerName']}:{lis.get('Port')}", action))
    return out


def same_number(a, b) -> bool:
    try:
        return int(str(a)) == int(str(b))
    except ValueError:
        return str(a).lower() == str(b).lower()


@register("elbv2.stickiness")
class Stickiness(Check):
    description = ("Sticky sessions bind each client to one target of the target group (the group's stickiness "
                   "attributes) with the cookie type given (lb_cookie: duration in seconds; app_cookie: the "
                   "application's cookie name). Where a listener splits traffic between this group and others "
                   "(weighted forward), that forward action must also keep clients on one group.")
    params_schema = schema(
        {"target_group": TG, "type": {"enum": ["lb_cookie", "app_cookie", "source_ip"]},
         "duration_seconds": {"type": "integer", "minimum": 1, "maximum": 604800},
         "cookie_name": string("the application's cookie name (app_cookie)")},
        ["target_group"],
    )

    def run(self, ctx, *, target_group, type=None, duration_seconds=None, cookie_name=None):
        tg = find_tg(ctx, target_group)
        attrs = tg_attributes(ctx, target_group)
        uses = forwards_to(ctx, tg["TargetGroupArn"])
        if str(attrs.get("stickiness.enabled", "false")).lower() != "true":
            group_level = [w for w, a in uses if ((a.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")
                                                 or {}).get("Enabled")]
            extra = (f" — the target group stickiness of {group_level[0]} keeps a client on the group, not on one "
                     "server; enable stickiness on the target group itself" if group_level else "")
            return failed(f"stickiness is not enabled on {target_group} (stickiness.enabled is "
                          f"{attrs.get('stickiness.enabled', 'false')}){extra}")
        kind = attrs.get("stickiness.type", "lb_cookie")
        if type and kind != type:
            return failed(f"{target_group} uses {kind} stickiness, not {type}")
        if duration_seconds:
            key = "stickiness.app_cookie.duration_seconds" if kind == "app_cookie" else \
                "stickiness.lb_cookie.duration_seconds"
            have = attrs.get(key, "86400")
            if not same_number(have, duration_seconds):
                return failed(f"the stickiness cookie of {target_group} lasts {have} seconds, not {duration_seconds}")
        if cookie_name and attrs.get("stickiness.app_cookie.cookie_name") != cookie_name:
            return failed(f"{target_group} follows the cookie {attrs.get('stickiness.app_cookie.cookie_name') or 'none'}, "
                          f"not {cookie_name}")
        for where, action in uses:
            weights = albrouting.forward_weights(action)
            if sum(1 for w in weights.values() if w > 0) > 1:
                conf = (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {}
                if not conf.get("Enabled"):
                    return failed(f"{where} splits requests between {target_group} and other target groups without "
                                  "target group stickiness, so a client can land on another group's servers")
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
        if have is None or not same_number(have, value):
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


@register("elbv2.cross_zone")
class CrossZone(Check):
    description = ("Cross-zone load balancing is in effect for the target group behind the load balancer: the "
                   "group's own load_balancing.cross_zone.enabled (true/false) wins over the load balancer's "
                   "attribute, which applies when the group says use_load_balancer_configuration (the default).")
    params_schema = schema({"load_balancer": LB, "target_group": TG}, ["load_balancer", "target_group"])

    def run(self, ctx, *, load_balancer, target_group):
        lb = find_lb(ctx, load_balancer)
        lb_attrs = ctx.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])
        lb_value = {a["Key"]: a.get("Value") for a in lb_attrs.get("Attributes", [])}.get(
            "load_balancing.cross_zone.enabled", "false")
        tg_value = str(tg_attributes(ctx, target_group).get("load_balancing.cross_zone.enabled")
                       or "use_load_balancer_configuration").lower()
        if tg_value in ("true", "false"):
            effective, source = tg_value, f"target group {target_group}"
        else:
            effective, source = str(lb_value).lower(), f"load balancer {load_balancer}"
        if effective != "true":
            return failed(f"cross-zone load balancing is off for {target_group} (set by the {source}: "
                          "load_balancing.cross_zone.enabled is false)")
        return passed(f"cross-zone load balancing is on for {target_group} (set by the {source})")


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


def cert_covers(names: set[str], domain: str) -> bool:
    """A certificate name covers the domain: the same name, or a wildcard for exactly one more label."""
    domain = domain.lower().rstrip(".")
    for n in (x.lower().rstrip(".") for x in names if x):
        if n == domain or (n.startswith("*.") and "." in domain and domain.split(".", 1)[1] == n[2:]):
            return True
    return False


def listener_cert_arns(ctx, lis: dict) -> list[str]:
    """The default certificate first, then those added for SNI (add-listener-certificates)."""
    arns = [c.get("CertificateArn") for c in lis.get("Certificates") or []]
    try:
        extra = ctx.client("elbv2").describe_listener_certificates(ListenerArn=lis["ListenerArn"]).get("Certificates", [])
    except ClientError:
        extra = []
    return list(dict.fromkeys(a for a in arns + [c.get("CertificateArn") for c in extra] if a))


@register("elbv2.https_listener")
class HttpsListener(Check):
    description = ("The load balancer has an HTTPS listener on `port` with an ACM certificate for `domain` (default "
                   "or SNI certificate; a wildcard covers one label) and optionally forwards every request (rules by "
                   "priority, then the default action; a request aimed at each rule too) to `forward_to`.")
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
        for arn in listener_cert_arns(ctx, lis):
            if ":acm:" not in arn:
                continue
            info = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            names = {info.get("DomainName"), *(info.get("SubjectAlternativeNames") or [])}
            domains += sorted(n for n in names if n)
            if cert_covers(names, domain):
                break
        else:
            have = ", ".join(dict.fromkeys(domains)) or "no ACM certificate"
            return failed(f"the HTTPS listener of {load_balancer} has no certificate for {domain} ({have})")
        if forward_to:
            problem = _listener_not_all_to(ctx, lb, lis, forward_to, tg_names(ctx))
            if problem:
                return failed(problem)
        return passed(f"{load_balancer} serves HTTPS on {port} with a certificate for {domain}"
                      + (f" and forwards to {forward_to}" if forward_to else ""))


SAMPLE_PATHS = ("/", "/checkout", "/images/logo.png")


def redirect_problem(conf: dict, to_port: int, status_code: str, host: str | None) -> str | None:
    """Why this redirect would not send http://host/path?query to https://host:to_port/path?query with the status."""
    protocol = conf.get("Protocol") or "#{protocol}"
    if protocol != "HTTPS":
        return f"keeps protocol {protocol}, it must go to HTTPS"
    port = str(conf.get("Port") or "#{port}")
    if port != str(to_port):
        return f"goes to port {port}, not {to_port}"
    want_host = {"#{host}", *([host.lower()] if host else [])}
    if (conf.get("Host") or "#{host}").lower() not in want_host:
        return f"sends everyone to the host {conf.get('Host')} instead of keeping the host asked for (#{{host}})"
    if (conf.get("Path") or "/#{path}") != "/#{path}":
        return f"sends every page to the path {conf.get('Path')} instead of keeping it (/#{{path}})"
    if (conf.get("Query") or "#{query}") != "#{query}":
        return f"replaces the query string with {conf.get('Query')!r} instead of keeping it (#{{query}})"
    if conf.get("StatusCode") != status_code:
        return (f"uses {conf.get('StatusCode')}, not {status_code}"
                + (" (a permanent redirect)" if status_code == "HTTP_301" else ""))
    return None


@register("elbv2.listener_redirect")
class ListenerRedirect(Check):
    description = ("Every request to the listener on `port` (its rules by priority, then its default action) is "
                   "redirected to HTTPS on `to_port` with `status_code`, keeping the host (or going to `host`), path "
                   "and query string.")
    params_schema = schema(
        {"load_balancer": LB, "port": PORT, "to_port": PORT,
         "status_code": {"enum": ["HTTP_301", "HTTP_302"]},
         "host": string("a fixed host name the redirect may name instead of #{host}, e.g. shop.example.com")},
        ["load_balancer", "port"],
    )

    def run(self, ctx, *, load_balancer, port, to_port=443, status_code="HTTP_301", host=None):
        lb = find_lb(ctx, load_balancer)
        lis = find_listener(ctx, lb, port)
        rules = listener_rules(ctx, lis)
        names = tg_names(ctx)
        host_name = lb.get("DNSName", "")
        # The sample paths, then a request aimed at each rule: a rule for pages no sample asks for (/static/*,
        # a header, another host) must not leave them on plain HTTP either.
        probes = [(albrouting.Request(path, host_name), ()) for path in SAMPLE_PATHS]
        probes += [albrouting.probe_for(rule, host_name) for rule in rules if not rule.get("IsDefault")]
        for req, assume in probes:
            r = albrouting.route(rules, lis.get("DefaultActions", []), req, assume)
            if r.action is None or r.action.get("Type") != "redirect":
                where = f"http://…{req.path}" if req.host == host_name else f"http://{req.host}{req.path}"
                extra = " (with the header, query string or source address that rule asks for)" if assume else ""
                return failed(f"a request for {where}{extra} on port {port} is not redirected: "
                              f"{describe_route(r, names)} — it should redirect to HTTPS")
            problem = redirect_problem(r.action.get("RedirectConfig") or {}, to_port, status_code, host)
            if problem:
                who = f"rule {r.rule.get('Priority')}" if r.rule is not None else "default action"
                return failed(f"the redirect on port {port} ({who}) {problem}")
        return passed(f"port {port} of {load_balancer} redirects every request to HTTPS:{to_port} with {status_code}, "
                      "keeping host, path and query")
