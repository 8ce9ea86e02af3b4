"""EC2 check kinds: security group rules and instances (state, groups, user data)."""

from __future__ import annotations

import base64
import gzip
import ipaddress
import re

from . import Check, CheckFailed, failed, passed, register, schema, string

GROUP = string("security group name")
VPC = {"type": "string", "default": "default",
       "description": "'default' for the region's default VPC, 'any', or a VPC id"}
PROTOCOL = {"enum": ["tcp", "udp", "icmp"], "default": "tcp", "description": "IP protocol"}
PORT = {"type": "integer", "minimum": 0, "maximum": 65535, "description": "port number"}
WELL_KNOWN = {22: "SSH", 80: "HTTP", 443: "HTTPS", 3389: "RDP", 3306: "MySQL", 5432: "PostgreSQL"}
PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1"}


def port_label(protocol: str, port: int) -> str:
    name = WELL_KNOWN.get(port) if protocol == "tcp" else None
    return f"{name} ({protocol.upper()} {port})" if name else f"{protocol.upper()} {port}"


def default_vpc_id(ctx) -> str | None:
    vpcs = ctx.client("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return vpcs[0]["VpcId"] if vpcs else None


def find_group(ctx, name: str, vpc: str = "default") -> dict:
    groups = ctx.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    if not groups:
        raise CheckFailed(f"security group {name} does not exist")
    if vpc == "any":
        return groups[0]
    want = default_vpc_id(ctx) if vpc == "default" else vpc
    for group in groups:
        if group.get("VpcId") == want:
            return group
    where = "the default VPC" if vpc == "default" else want
    raise CheckFailed(f"security group {name} is in {groups[0].get('VpcId')}, not in {where} ({want})")


def rule_covers(rule: dict, protocol: str, port: int) -> bool:
    proto = str(rule.get("IpProtocol"))
    if proto == "-1":
        return True
    if proto not in (protocol, PROTOCOL_NUMBERS.get(protocol)):
        return False
    lo, hi = rule.get("FromPort"), rule.get("ToPort")
    if lo is None or hi is None or lo == -1:
        return True
    return lo <= port <= hi


def rule_label(rule: dict) -> str:
    proto = str(rule.get("IpProtocol"))
    if proto == "-1":
        return "all traffic"
    lo, hi = rule.get("FromPort"), rule.get("ToPort")
    ports = "" if lo is None else (f" {lo}" if lo == hi else f" {lo}-{hi}")
    return f"{proto}{ports}"


def rule_sources(rule: dict) -> list[str]:
    return (
        [r["CidrIp"] for r in rule.get("IpRanges", [])]
        + [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])]
        + [f"security group {g.get('GroupId') or g.get('GroupName')}" for g in rule.get("UserIdGroupPairs", [])]
        + [f"prefix list {p['PrefixListId']}" for p in rule.get("PrefixListIds", [])]
    )


def summarise_rules(rules: list[dict]) -> str:
    parts = [f"{rule_label(r)} from {s}" for r in rules for s in rule_sources(r)]
    return "; ".join(parts) or "no inbound rules"


def _network(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _within(source: str, allowed: list[str]) -> bool:
    net = _network(source)
    if net is None:
        return False
    for a in allowed:
        other = _network(a)
        if other is not None and net.version == other.version and net.subnet_of(other):
            return True
    return False


@register("ec2.sg_exists")
class SecurityGroupExists(Check):
    description = "The security group exists (in the default VPC unless `vpc` says otherwise)."
    params_schema = schema({"group": GROUP, "vpc": VPC}, ["group"])

    def run(self, ctx, *, group, vpc="default"):
        sg = find_group(ctx, group, vpc)
        return passed(f"security group {group} ({sg['GroupId']}) exists in {sg.get('VpcId')}")


@register("ec2.sg_ingress_allows")
class IngressAllows(Check):
    description = "An inbound rule of the group lets `cidr` reach `port` (directly, by a port range or all traffic)."
    params_schema = schema(
        {"group": GROUP, "vpc": VPC, "protocol": PROTOCOL, "port": PORT,
         "cidr": string("source CIDR that must be allowed, e.g. 0.0.0.0/0")},
        ["group", "port", "cidr"],
    )

    def run(self, ctx, *, group, port, cidr, protocol="tcp", vpc="default"):
        sg = find_group(ctx, group, vpc)
        rules = sg.get("IpPermissions", [])
        want = _network(cidr)
        for rule in rules:
            if rule_covers(rule, protocol, port):
                for src in rule_sources(rule):
                    net = _network(src)
                    if net is not None and want is not None and net.version == want.version and want.subnet_of(net):
                        return passed(f"{group} allows {port_label(protocol, port)} from {cidr}")
        return failed(f"{group} does not allow {port_label(protocol, port)} from {cidr} "
                      f"(inbound rules: {summarise_rules(rules)})")


@register("ec2.sg_port_only_from")
class PortOnlyFrom(Check):
    description = (
        "`port` is reachable only from the listed CIDRs: every inbound rule covering it (including port ranges "
        "and all-traffic rules, IPv6, prefix lists and group references) has only allowed sources, and at least "
        "one allowed source is present."
    )
    params_schema = schema(
        {"group": GROUP, "vpc": VPC, "protocol": PROTOCOL, "port": PORT,
         "cidrs": {"type": "array", "minItems": 1, "items": string("allowed source CIDR"),
                   "description": "the only sources allowed to reach the port"}},
        ["group", "port", "cidrs"],
    )

    def run(self, ctx, *, group, port, cidrs, protocol="tcp", vpc="default"):
        sg = find_group(ctx, group, vpc)
        rules = sg.get("IpPermissions", [])
        label = port_label(protocol, port)
        allowed_text = " or ".join(cidrs)
        offending, present = [], False
        for rule in rules:
            if not rule_covers(rule, protocol, port):
                continue
            for src in rule_sources(rule):
                if _within(src, cidrs):
                    present = True
                else:
                    how = "" if rule_label(rule) == f"{protocol} {port}" else f" (through the rule {rule_label(rule)})"
                    offending.append(f"{src}{how}")
        if offending:
            return failed(f"{label} is open to {', '.join(offending)} — restrict it to {allowed_text}")
        if not present:
            return failed(f"{label} is not allowed from {allowed_text} — add an inbound rule for it")
        return passed(f"{label} is allowed only from {allowed_text}")


# --- instances -------------------------------------------------------------------------------------

NAME = string("value of the instance's Name tag")


def instances_named(ctx, name: str) -> list[dict]:
    pages = ctx.client("ec2").describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    found = [i for r in pages.get("Reservations", []) for i in r.get("Instances", [])]
    return [i for i in found if i["State"]["Name"] not in ("terminated", "shutting-down")]


@register("ec2.instance_running")
class InstanceRunning(Check):
    description = "Exactly one running instance carries the Name tag (optionally: and is in the security group)."
    params_schema = schema(
        {"name": NAME, "security_group": string("name of a security group the instance must be in")},
        ["name"],
    )

    def run(self, ctx, *, name, security_group=None):
        found = instances_named(ctx, name)
        if not found:
            raise CheckFailed(f"there is no instance tagged Name={name}")
        running = [i for i in found if i["State"]["Name"] in ("running", "pending")]
        if not running:
            states = ", ".join(f"{i['InstanceId']} is {i['State']['Name']}" for i in found)
            return failed(f"no instance named {name} is running ({states})")
        if len(running) > 1:
            ids = ", ".join(i["InstanceId"] for i in running)
            return failed(f"{len(running)} instances named {name} are running ({ids}) — keep exactly one")
        inst = running[0]
        groups = [g["GroupName"] for g in inst.get("SecurityGroups", [])]
        if security_group and security_group not in groups:
            return failed(f"{name} ({inst['InstanceId']}) is in security groups {', '.join(groups) or 'none'}, "
                          f"not {security_group}")
        where = f" in {security_group}" if security_group else ""
        return passed(f"{name} ({inst['InstanceId']}) is running{where}")


def decode_user_data(raw: str | None) -> str:
    if not raw:
        return ""
    data = base64.b64decode(raw)
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def _script_lines(text: str) -> list[str]:
    """Lines that run: comments dropped (the shebang is not a command), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def installs(lines: list[str], package: str) -> bool:
    pkg = re.escape(package)
    pattern = re.compile(rf"\b(yum|dnf|apt-get|apt)\b[^;&|]*\binstall\b[^;&|]*(?<![\w.-]){pkg}(?![\w.-])")
    return any(pattern.search(ln) for ln in lines) or any(
        re.fullmatch(rf"-\s*{pkg}", ln) for ln in lines)  # cloud-config `packages:` list item


def starts(lines: list[str], service: str) -> tuple[bool, bool]:
    """(started now, only enabled at boot)."""
    svc = re.escape(service)
    name = rf"(?<![\w.-]){svc}(\.service)?(?![\w.-])"
    start = re.compile(rf"\bsystemctl\b[^;&|]*\b(start|restart)\b[^;&|]*{name}")
    enable_now = re.compile(rf"\bsystemctl\b(?=[^;&|]*\benable\b)(?=[^;&|]*--now\b)[^;&|]*{name}")
    sysv = re.compile(rf"\bservice\s+{svc}\s+(start|restart)\b")
    enable = re.compile(rf"\bsystemctl\b[^;&|]*\benable\b[^;&|]*{name}|\bchkconfig\s+{svc}\s+on\b")
    now = any(start.search(ln) or enable_now.search(ln) or sysv.search(ln) for ln in lines)
    return now, (not now and any(enable.search(ln) for ln in lines))


@register("ec2.instance_user_data")
class InstanceUserData(Check):
    description = ("The running instance with the Name tag has user data (a #! script or #cloud-config) that "
                   "installs `package` and starts `service`.")
    params_schema = schema(
        {"name": NAME, "package": string("package the script must install, e.g. httpd"),
         "service": string("service the script must start (defaults to the package name)")},
        ["name", "package"],
    )

    def run(self, ctx, *, name, package, service=None):
        service = service or package
        found = instances_named(ctx, name)
        if not found:
            raise CheckFailed(f"there is no instance tagged Name={name}")
        inst = next((i for i in found if i["State"]["Name"] in ("running", "pending")), found[0])
        attr = ctx.client("ec2").describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
        try:
            text = decode_user_data((attr.get("UserData") or {}).get("Value"))
        except (ValueError, OSError):
            return failed(f"the user data of {name} is not valid base64 text")
        if not text.strip():
            return failed(f"{name} has no user data — give it a script that installs and starts {service}")
        first = text.lstrip().splitlines()[0]
        if not (first.startswith("#!") or first.startswith("#cloud-config")):
            return failed(f"the user data of {name} does not start with #!/bin/bash (or #cloud-config), "
                          "so cloud-init would not run it")
        lines = _script_lines(text)
        missing = []
        if not installs(lines, package):
            missing.append(f"install {package} (e.g. dnf install -y {package})")
        now, only_enabled = starts(lines, service)
        if not now:
            missing.append(f"start {service} (it is only enabled at boot, use systemctl enable --now {service})"
                           if only_enabled else f"start {service} (e.g. systemctl enable --now {service})")
        if missing:
            return failed(f"the user data of {name} does not " + " and does not ".join(missing))
        return passed(f"the user data of {name} installs {package} and starts {service}")
