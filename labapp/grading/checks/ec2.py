"""EC2 check kinds: security group rules and instances (state, groups, user data)."""

from __future__ import annotations

import base64
import gzip
import ipaddress
import re

import yaml
from botocore.exceptions import ClientError

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


def rule_protocol(rule: dict) -> str:
    """The rule's protocol as AWS normalises it: -1 (all), tcp, udp, icmp, or a number."""
    proto = str(rule.get("IpProtocol", "")).strip().lower()
    if proto in ("-1", "all"):
        return "-1"
    return {number: name for name, number in PROTOCOL_NUMBERS.items()}.get(proto, proto)


def rule_covers(rule: dict, protocol: str, port: int) -> bool:
    proto = rule_protocol(rule)
    if proto == "-1":
        return True
    if proto != protocol:
        return False
    lo, hi = rule.get("FromPort"), rule.get("ToPort")
    if lo is None or hi is None or lo == -1:
        return True
    return lo <= port <= hi


def rule_label(rule: dict) -> str:
    proto = rule_protocol(rule)
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


def prefix_list_cidrs(ctx, prefix_list_id: str) -> list[str] | None:
    """The CIDRs of a managed prefix list (None if it cannot be read: then nothing can be proven about it)."""
    try:
        entries = ctx.client("ec2").get_managed_prefix_list_entries(PrefixListId=prefix_list_id).get("Entries", [])
    except ClientError:
        return None
    return [e["Cidr"] for e in entries if e.get("Cidr")]


def address_sources(ctx, rule: dict) -> list[tuple[str, str | None]]:
    """(how to name it, CIDR) for every address a rule lets in: its IPv4 and IPv6 ranges and the entries of its
    prefix lists, which mean exactly the same. A referenced security group, or a prefix list that cannot be
    read, has no CIDR (None): it lets in addresses nobody can enumerate here."""
    out: list[tuple[str, str | None]] = [(c, c) for c in rule_sources({"IpRanges": rule.get("IpRanges", []),
                                                                        "Ipv6Ranges": rule.get("Ipv6Ranges", [])})]
    for ref in rule.get("PrefixListIds", []):
        cidrs = prefix_list_cidrs(ctx, ref["PrefixListId"])
        if cidrs is None:
            out.append((f"prefix list {ref['PrefixListId']}", None))
        else:
            out += [(f"{c} (in prefix list {ref['PrefixListId']})", c) for c in cidrs]
    out += [(f"security group {g.get('GroupId') or g.get('GroupName')}", None)
            for g in rule.get("UserIdGroupPairs", [])]
    return out


def uncovered(want, sources: list) -> list:
    """The parts of network `want` that none of `sources` (networks) contains: their union is what counts,
    so 0.0.0.0/1 + 128.0.0.0/1 covers 0.0.0.0/0."""
    remaining = [want]
    for src in sources:
        if src is None or src.version != want.version:
            continue
        left = []
        for part in remaining:
            if part.subnet_of(src):
                continue
            if src.subnet_of(part):
                left += list(part.address_exclude(src))
            else:
                left.append(part)
        remaining = left
    return sorted(remaining, key=lambda n: (n.network_address, n.prefixlen))


@register("ec2.sg_exists")
class SecurityGroupExists(Check):
    description = "The security group exists (in the default VPC unless `vpc` says otherwise)."
    params_schema = schema({"group": GROUP, "vpc": VPC}, ["group"])

    def run(self, ctx, *, group, vpc="default"):
        sg = find_group(ctx, group, vpc)
        return passed(f"security group {group} ({sg['GroupId']}) exists in {sg.get('VpcId')}")


@register("ec2.sg_ingress_allows")
class IngressAllows(Check):
    description = ("Inbound rules of the group together let every address of `cidr` reach `port` (by a port range "
                   "or all traffic too; CIDRs, IPv6 ranges and prefix-list entries count by what they contain).")
    params_schema = schema(
        {"group": GROUP, "vpc": VPC, "protocol": PROTOCOL, "port": PORT,
         "cidr": string("source CIDR that must be allowed, e.g. 0.0.0.0/0")},
        ["group", "port", "cidr"],
    )

    def run(self, ctx, *, group, port, cidr, protocol="tcp", vpc="default"):
        sg = find_group(ctx, group, vpc)
        rules = sg.get("IpPermissions", [])
        want = _network(cidr)
        sources = [_network(c) for r in rules if rule_covers(r, protocol, port)
                   for _, c in address_sources(ctx, r) if c]
        missing = uncovered(want, sources) if want is not None else []
        if want is not None and not missing:
            return passed(f"{group} allows {port_label(protocol, port)} from {cidr}")
        gap = f" ({missing[0]} cannot reach it)" if missing and missing[0] != want else ""
        return failed(f"{group} does not allow {port_label(protocol, port)} from {cidr}{gap} "
                      f"(inbound rules: {summarise_rules(rules)})")


@register("ec2.sg_port_only_from")
class PortOnlyFrom(Check):
    description = (
        "`port` is reachable only from the listed CIDRs: every inbound rule covering it (including port ranges "
        "and all-traffic rules, IPv6, prefix lists and group references) has only allowed sources, and at least "
        "one allowed source is present. A prefix list counts by its entries."
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
            for name, src in address_sources(ctx, rule):
                if src is not None and _within(src, cidrs):
                    present = True
                else:
                    how = "" if rule_label(rule) == f"{protocol} {port}" else f" (through the rule {rule_label(rule)})"
                    offending.append(f"{name}{how}")
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
    description = ("Exactly one running instance (or stopped, with `allow_stopped`) carries the Name tag (optionally: "
                   "and is in the security group).")
    params_schema = schema(
        {"name": NAME, "security_group": string("name of a security group the instance must be in"),
         "allow_stopped": {"type": "boolean", "description": "a stopped instance counts too (e.g. a builder "
                                                             "stopped before baking an AMI)"}},
        ["name"],
    )

    def run(self, ctx, *, name, security_group=None, allow_stopped=False):
        found = instances_named(ctx, name)
        if not found:
            raise CheckFailed(f"there is no instance tagged Name={name}")
        states = ("running", "pending", "stopping", "stopped") if allow_stopped else ("running", "pending")
        running = [i for i in found if i["State"]["Name"] in states]
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
        return passed(f"{name} ({inst['InstanceId']}) is {inst['State']['Name']}{where}")


def decode_user_data(raw: str | None) -> str:
    if not raw:
        return ""
    data = base64.b64decode(raw)
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def _script_lines(text: str) -> list[str]:
    """Lines that run: comments dropped (the shebang is not a command), continuation lines joined. For a
    #cloud-config document: its `packages` as the install command cloud-init runs, then its `bootcmd` and
    `runcmd` commands (each a string or an argument list)."""
    if text.lstrip().startswith("#cloud-config"):
        lines = _cloud_config_lines(text)
        if lines is not None:
            return lines
    joined = re.sub(r"\\\n", " ", text)
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _cloud_config_lines(text: str) -> list[str] | None:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    lines = []
    for pkg in doc.get("packages") or []:
        name = pkg[0] if isinstance(pkg, list) and pkg else pkg
        lines.append(f"dnf install -y {name}")
    for key in ("bootcmd", "runcmd"):
        for cmd in doc.get(key) or []:
            lines.append(" ".join(str(a) for a in cmd) if isinstance(cmd, list) else str(cmd))
    return lines


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


@register("ec2.instance_port_only_from")
class InstancePortOnlyFrom(Check):
    description = ("No security group attached to the named instance(s) opens `port` to anything beyond `cidrs`: an "
                   "instance's groups add up, so a second group (a console 'launch-wizard' group, say) could reopen "
                   "a port its main group restricts. Says nothing about whether the port is open at all. "
                   "`besides`: a group whose rules another task grades (not counted twice).")
    params_schema = schema(
        {"instance": NAME, "protocol": PROTOCOL, "port": PORT,
         "besides": string("name of a security group left out (its rules are graded by another check)"),
         "cidrs": {"type": "array", "minItems": 1, "items": string("allowed source CIDR"),
                   "description": "the only sources any of the instance's groups may let reach the port"}},
        ["instance", "port", "cidrs"],
    )

    def run(self, ctx, *, instance, port, cidrs, protocol="tcp", besides=None):
        found = instances_named(ctx, instance)
        if not found:
            raise CheckFailed(f"there is no instance tagged Name={instance}")
        label = port_label(protocol, port)
        for inst in found:
            _, maybe = instance_group_ids(inst)
            groups = ctx.client("ec2").describe_security_groups(GroupIds=maybe)["SecurityGroups"] if maybe else []
            for group in (g for g in groups if g["GroupName"] != besides):
                offending = [name for rule in group.get("IpPermissions", []) if rule_covers(rule, protocol, port)
                             for name, src in address_sources(ctx, rule) if src is None or not _within(src, cidrs)]
                if offending:
                    return failed(f"{instance} ({inst['InstanceId']}) is also in the security group "
                                  f"{group['GroupName']}, which opens {label} to {', '.join(offending)} — an "
                                  f"instance's groups add up: detach that group or restrict the rule to "
                                  f"{' or '.join(cidrs)}")
        other = "other " if besides else ""
        return passed(f"no {other}security group of {instance} opens {label} beyond {' or '.join(cidrs)}")


# --- security group chaining ------------------------------------------------------------------------


def _chain_sources(group: dict, source: dict, source_name: str, protocol: str, port: int) -> tuple[list[str], bool]:
    """(the sources other than `source` that reach `port` through `group`, whether `source` itself does)."""
    offending, present = [], False
    for rule in group.get("IpPermissions", []):
        if not rule_covers(rule, protocol, port):
            continue
        how = "" if rule_label(rule) == f"{protocol} {port}" else f" (through the rule {rule_label(rule)})"
        for pair in rule.get("UserIdGroupPairs", []):
            if pair.get("GroupId") == source["GroupId"] or pair.get("GroupName") == source_name:
                present = True
            else:
                offending.append(f"security group {pair.get('GroupId') or pair.get('GroupName')}{how}")
        for src in (rule_sources({"IpRanges": rule.get("IpRanges", []),
                                  "Ipv6Ranges": rule.get("Ipv6Ranges", []),
                                  "PrefixListIds": rule.get("PrefixListIds", [])})):
            offending.append(f"{src}{how}")
    return offending, present


def instance_group_ids(inst: dict) -> tuple[list[str], list[str]]:
    """(groups that surely guard the instance, groups that may): the instance's own list and those of its
    secondary network interfaces surely do (a second interface in another group is another way in). The
    primary interface's list may too: the emulator does not keep it in step with modify-instance-attribute
    (nor the instance's list with modify-network-interface-attribute), so a group is counted as a possible
    way in wherever it shows, but only a sure one proves the load balancer can reach the instance."""
    sure = [g["GroupId"] for g in inst.get("SecurityGroups", [])]
    sure += [g["GroupId"] for eni in inst.get("NetworkInterfaces", [])
             if (eni.get("Attachment") or {}).get("DeviceIndex", 0) != 0 for g in eni.get("Groups", [])]
    maybe = sure + [g["GroupId"] for eni in inst.get("NetworkInterfaces", []) for g in eni.get("Groups", [])]
    return list(dict.fromkeys(sure)), list(dict.fromkeys(maybe))


@register("ec2.sg_port_only_from_group")
class PortOnlyFromGroup(Check):
    description = ("`port` of `group` is reachable only from members of `source_group` (a security group "
                   "reference): no CIDR, prefix list or other group can reach it, by any rule covering the port. "
                   "With `instances`, the same holds for every group attached to those instances (rules of all "
                   "of an instance's groups add up, so a second group could reopen the port).")
    params_schema = schema(
        {"group": GROUP, "vpc": VPC, "protocol": PROTOCOL, "port": PORT,
         "source_group": string("name of the security group whose members alone may connect"),
         "instances": {"type": "array", "minItems": 1, "items": string("Name tag of an instance"),
                       "description": "instances whose security groups must, together, admit only source_group"}},
        ["group", "port", "source_group"],
    )

    def run(self, ctx, *, group, port, source_group, protocol="tcp", vpc="default", instances=None):
        sg = find_group(ctx, group, vpc)
        source = find_group(ctx, source_group, "any" if vpc == "any" else sg.get("VpcId"))
        label = port_label(protocol, port)
        offending, present = _chain_sources(sg, source, source_group, protocol, port)
        if offending:
            return failed(f"{label} of {group} is also open to {', '.join(offending)} — only {source_group} "
                          f"({source['GroupId']}) may reach it; revoke the other rules")
        if not present:
            return failed(f"{group} has no inbound rule for {label} from the security group {source_group} "
                          f"({source['GroupId']}) — add one with the group as the source")
        for name in instances or []:
            verdict = self._instance_verdict(ctx, name, source, source_group, protocol, port, label)
            if verdict:
                return failed(verdict)
        return passed(f"{label} of {group} is reachable only from members of {source_group}")

    @staticmethod
    def _instance_verdict(ctx, name, source, source_name, protocol, port, label) -> str | None:
        found = instances_named(ctx, name)
        if not found:
            raise CheckFailed(f"there is no instance tagged Name={name}")
        for inst in found:
            sure, maybe = instance_group_ids(inst)
            groups = ctx.client("ec2").describe_security_groups(GroupIds=maybe)["SecurityGroups"] if maybe else []
            reached = False
            for g in groups:
                offending, present = _chain_sources(g, source, source_name, protocol, port)
                reached = reached or (present and g["GroupId"] in sure)
                if offending:
                    return (f"{name} ({inst['InstanceId']}) is also in the security group {g['GroupName']}, "
                            f"which opens {label} to {', '.join(offending)} — an instance's groups add up, so "
                            f"only {source_name} may reach it: detach that group or revoke the rule")
            if not reached:
                names = ", ".join(g["GroupName"] for g in groups if g["GroupId"] in sure) or "none"
                return (f"{name} ({inst['InstanceId']}) is in {names}, none of which admits {label} from "
                        f"{source_name}")
        return None


# --- Elastic IPs ------------------------------------------------------------------------------------


def running_instance(ctx, name: str) -> dict:
    found = [i for i in instances_named(ctx, name) if i["State"]["Name"] in ("running", "pending", "stopped",
                                                                             "stopping")]
    if not found:
        raise CheckFailed(f"there is no instance tagged Name={name}")
    return found[0]


def tag(resource: dict, key: str = "Name") -> str | None:
    return next((t["Value"] for t in resource.get("Tags", []) or [] if t["Key"] == key), None)


@register("ec2.eip_associated")
class ElasticIpAssociated(Check):
    description = "An Elastic IP (VPC domain; optionally the one tagged Name=`address_name`) is associated with the instance."
    params_schema = schema(
        {"instance": NAME, "address_name": string("Name tag the Elastic IP must carry")},
        ["instance"],
    )

    def run(self, ctx, *, instance, address_name=None):
        inst = running_instance(ctx, instance)
        addresses = ctx.client("ec2").describe_addresses().get("Addresses", [])
        if not addresses:
            return failed("you have no Elastic IP addresses — allocate one (aws ec2 allocate-address)")
        candidates = addresses
        if address_name:
            candidates = [a for a in addresses if tag(a) == address_name]
            if not candidates:
                return failed(f"no Elastic IP is tagged Name={address_name} "
                              f"(you have {', '.join(a['PublicIp'] for a in addresses)})")
        nics = {n.get("NetworkInterfaceId") for n in inst.get("NetworkInterfaces", [])}
        # Associated with the instance, or with one of its network interfaces: the same thing on AWS.
        mine = [a for a in candidates if a.get("InstanceId") == inst["InstanceId"]
                or (a.get("NetworkInterfaceId") and a["NetworkInterfaceId"] in nics)]
        if not mine:
            where = ", ".join(f"{a['PublicIp']} → {a.get('InstanceId') or a.get('NetworkInterfaceId') or 'nothing'}"
                              for a in candidates)
            return failed(f"no Elastic IP is associated with {instance} ({inst['InstanceId']}); yours: {where}")
        return passed(f"Elastic IP {mine[0]['PublicIp']} is associated with {instance}")


@register("ec2.no_idle_eips")
class NoIdleElasticIps(Check):
    description = "Every Elastic IP of the account is associated with something (idle addresses cost money)."
    params_schema = schema({}, [])

    def run(self, ctx):
        addresses = ctx.client("ec2").describe_addresses().get("Addresses", [])
        idle = [a["PublicIp"] for a in addresses if not a.get("AssociationId") and not a.get("InstanceId")
                and not a.get("NetworkInterfaceId")]
        if idle:
            return failed(f"Elastic IP {', '.join(idle)} is allocated but not associated — release it "
                          "(aws ec2 release-address), you pay for it while you hold it")
        if not addresses:
            return failed("you have no Elastic IP addresses at all")
        return passed("no Elastic IP is left idle")


# --- network interfaces -----------------------------------------------------------------------------


def eni_named(ctx, name: str) -> dict:
    enis = ctx.client("ec2").describe_network_interfaces(
        Filters=[{"Name": "tag:Name", "Values": [name]}]).get("NetworkInterfaces", [])
    if not enis:
        raise CheckFailed(f"there is no network interface tagged Name={name}")
    if len(enis) > 1:
        raise CheckFailed(f"{len(enis)} network interfaces are tagged Name={name} — keep exactly one")
    return enis[0]


def _instance_names(ctx) -> dict[str, str]:
    out = {}
    for res in ctx.client("ec2").describe_instances().get("Reservations", []):
        for inst in res.get("Instances", []):
            out[inst["InstanceId"]] = tag(inst) or inst["InstanceId"]
    return out


def _succeeded(row: dict) -> bool:
    return row.get("source") == "learner" and 200 <= int(row.get("status") or 0) < 300


@register("ec2.eni_attached")
class EniAttached(Check):
    description = ("The network interface tagged Name=`eni` is attached to the instance `instance` (optionally at "
                   "`device_index`, and — read from the journal — after having been attached to `moved_from`).")
    params_schema = schema(
        {"eni": string("Name tag of the network interface"), "instance": NAME,
         "device_index": {"type": "integer", "minimum": 0, "maximum": 15},
         "moved_from": string("Name tag of the instance the interface must have been attached to before")},
        ["eni", "instance"],
    )

    def run(self, ctx, *, eni, instance, device_index=None, moved_from=None):
        nic = eni_named(ctx, eni)
        inst = running_instance(ctx, instance)
        att = nic.get("Attachment") or {}
        if not att.get("InstanceId"):
            return failed(f"{eni} ({nic['NetworkInterfaceId']}) is not attached to any instance")
        if att["InstanceId"] != inst["InstanceId"]:
            other = _instance_names(ctx).get(att["InstanceId"], att["InstanceId"])
            return failed(f"{eni} is attached to {other}, not to {instance}")
        if device_index is not None and att.get("DeviceIndex") != device_index:
            return failed(f"{eni} is attached to {instance} at device index {att.get('DeviceIndex')}, "
                          f"not {device_index}")
        if inst.get("SubnetId") and nic.get("SubnetId") and nic.get("AvailabilityZone") != \
                inst.get("Placement", {}).get("AvailabilityZone"):
            return failed(f"{eni} is in {nic.get('AvailabilityZone')} but {instance} is in "
                          f"{inst.get('Placement', {}).get('AvailabilityZone')}")
        if moved_from:
            before = running_instance(ctx, moved_from)
            ok = [i for i, row in enumerate(ctx.journal) if _succeeded(row)]

            def this_eni(row) -> bool:  # rows journaled before NetworkInterfaceId was kept cannot tell
                return (row.get("params") or {}).get("NetworkInterfaceId", nic["NetworkInterfaceId"]) == \
                    nic["NetworkInterfaceId"]

            attaches = [i for i in ok if ctx.journal[i].get("action") == "AttachNetworkInterface"
                        and (ctx.journal[i].get("params") or {}).get("InstanceId") == before["InstanceId"]
                        and this_eni(ctx.journal[i])]
            if not attaches:
                return failed(f"{eni} was never attached to {moved_from} — attach it there first, then fail it "
                              f"over to {instance}")
            index = (ctx.journal[attaches[0]].get("params") or {}).get("DeviceIndex")
            if device_index is not None and index is not None and str(index) != str(device_index):
                return failed(f"{eni} was attached to {moved_from} at device index {index}, not {device_index}")
            detached = any(i > attaches[0] and ctx.journal[i].get("action") == "DetachNetworkInterface"
                           for i in ok)
            if not detached:
                return failed(f"{eni} was not detached from {moved_from} before moving to {instance}")
            return passed(f"{eni} moved from {moved_from} to {instance}")
        return passed(f"{eni} ({nic['NetworkInterfaceId']}) is attached to {instance}")


@register("ec2.eni_config")
class EniConfig(Check):
    description = "The network interface tagged Name=`eni` is in the same subnet as `same_subnet_as` and in `security_group`."
    params_schema = schema(
        {"eni": string("Name tag of the network interface"),
         "same_subnet_as": string("Name tag of an instance whose subnet the interface must be in"),
         "security_group": string("name of a security group the interface must be in")},
        ["eni"],
    )

    def run(self, ctx, *, eni, same_subnet_as=None, security_group=None):
        nic = eni_named(ctx, eni)
        if same_subnet_as:
            inst = running_instance(ctx, same_subnet_as)
            if nic.get("SubnetId") != inst.get("SubnetId"):
                return failed(f"{eni} is in subnet {nic.get('SubnetId')} ({nic.get('AvailabilityZone')}), "
                              f"{same_subnet_as} is in {inst.get('SubnetId')} — an interface can only move between "
                              "instances in its own Availability Zone")
        if security_group:
            names = [g.get("GroupName") for g in nic.get("Groups", [])]
            if security_group not in names:
                return failed(f"{eni} is in security groups {', '.join(n or '?' for n in names) or 'none'}, "
                              f"not {security_group}")
        return passed(f"{eni} ({nic['NetworkInterfaceId']}) exists in {nic.get('SubnetId')}")


# --- AMIs ---------------------------------------------------------------------------------------------


def own_image(ctx, name: str) -> dict:
    images = ctx.client("ec2").describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"]
    if not images:
        raise CheckFailed(f"you own no AMI named {name}")
    return images[0]


@register("ec2.image_from_instance")
class ImageFromInstance(Check):
    description = "An AMI named `image` that you own was created from the instance tagged Name=`instance`."
    params_schema = schema({"image": string("AMI name"), "instance": NAME}, ["image", "instance"])

    def run(self, ctx, *, image, instance):
        ami = own_image(ctx, image)
        inst = running_instance(ctx, instance)
        made = ctx.client("ec2").describe_images(
            Owners=["self"], Filters=[{"Name": "source-instance-id", "Values": [inst["InstanceId"]]}])["Images"]
        if ami["ImageId"] not in {i["ImageId"] for i in made}:
            return failed(f"AMI {image} ({ami['ImageId']}) was not created from {instance} ({inst['InstanceId']}) "
                          "— use aws ec2 create-image --instance-id on that instance")
        if ami.get("State") not in ("available", "pending"):
            return failed(f"AMI {image} is {ami.get('State')}")
        return passed(f"AMI {image} ({ami['ImageId']}) was baked from {instance}")


@register("ec2.instance_from_image")
class InstanceFromImage(Check):
    description = "A running instance tagged Name=`instance` was launched from your AMI named `image`."
    params_schema = schema({"instance": NAME, "image": string("AMI name")}, ["instance", "image"])

    def run(self, ctx, *, instance, image):
        ami = own_image(ctx, image)
        found = [i for i in instances_named(ctx, instance) if i["State"]["Name"] in ("running", "pending")]
        if not found:
            raise CheckFailed(f"there is no running instance tagged Name={instance}")
        if not any(i.get("ImageId") == ami["ImageId"] for i in found):
            return failed(f"{instance} runs {found[0].get('ImageId')}, not your AMI {image} ({ami['ImageId']})")
        return passed(f"{instance} runs your AMI {image}")


# --- launch templates ---------------------------------------------------------------------------------


@register("ec2.launch_template")
class LaunchTemplate(Check):
    description = ("The launch template exists and its default version uses `image` (an AMI id), `instance_type`, "
                   "and `security_group` (a group name); optionally has user data.")
    params_schema = schema(
        {"name": string("launch template name"), "image": string("AMI id"),
         "instance_type": string("instance type, e.g. t3.micro"),
         "security_group": string("name of a security group the template must use"),
         "user_data": {"type": "boolean", "description": "the template must carry user data"}},
        ["name"],
    )

    def run(self, ctx, *, name, image=None, instance_type=None, security_group=None, user_data=False):
        ec2 = ctx.client("ec2")
        try:
            versions = ec2.describe_launch_template_versions(LaunchTemplateName=name,
                                                             Versions=["$Default"])["LaunchTemplateVersions"]
        except ClientError as err:  # the error code differs between AWS (NotFound) and older emulators
            if "NotFound" in str(err) or "does not exist" in str(err):
                raise CheckFailed(f"launch template {name} does not exist") from err
            raise
        if not versions:
            raise CheckFailed(f"launch template {name} does not exist")
        data = versions[0].get("LaunchTemplateData", {})
        label = f"{name} (version {versions[0].get('VersionNumber')})"
        if image and data.get("ImageId") != image:
            return failed(f"launch template {label} uses AMI {data.get('ImageId') or 'none'}, not {image}")
        if instance_type and data.get("InstanceType") != instance_type:
            return failed(f"launch template {label} uses instance type {data.get('InstanceType') or 'none'}, "
                          f"not {instance_type}")
        if security_group:
            ids = list(data.get("SecurityGroupIds") or [])
            names = list(data.get("SecurityGroups") or [])
            for nic in data.get("NetworkInterfaces") or []:
                ids += nic.get("Groups") or []
            if security_group not in names:
                groups = ec2.describe_security_groups(
                    Filters=[{"Name": "group-name", "Values": [security_group]}])["SecurityGroups"]
                if not any(g["GroupId"] in ids for g in groups):
                    return failed(f"launch template {label} does not use the security group {security_group}")
        if user_data and not data.get("UserData"):
            return failed(f"launch template {label} has no user data")
        return passed(f"launch template {label} is configured as asked")


# --- EBS volumes and snapshots --------------------------------------------------------------------------


def volume_named(ctx, name: str) -> dict:
    vols = ctx.client("ec2").describe_volumes(Filters=[{"Name": "tag:Name", "Values": [name]}])["Volumes"]
    if not vols:
        raise CheckFailed(f"there is no volume tagged Name={name}")
    return vols[0]


def snapshots_of(ctx, volume_id: str) -> list[dict]:
    return ctx.client("ec2").describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": [volume_id]}])["Snapshots"]


@register("ec2.snapshot_of_volume")
class SnapshotOfVolume(Check):
    description = "At least one completed snapshot was taken of the volume tagged Name=`volume`."
    params_schema = schema({"volume": string("Name tag of the source volume")}, ["volume"])

    def run(self, ctx, *, volume):
        vol = volume_named(ctx, volume)
        snaps = snapshots_of(ctx, vol["VolumeId"])
        if not snaps:
            return failed(f"no snapshot of {volume} ({vol['VolumeId']}) exists — aws ec2 create-snapshot")
        done = [s for s in snaps if s.get("State") == "completed"]
        if not done:
            return failed(f"the snapshot of {volume} is {snaps[0].get('State')}, not completed yet")
        return passed(f"{volume} has a completed snapshot ({done[0]['SnapshotId']})")


@register("ec2.volume_from_snapshot")
class VolumeFromSnapshot(Check):
    description = ("A volume in `availability_zone` was created from a snapshot of the volume tagged Name=`source` "
                   "(optionally: tagged Name=`name`, of `volume_type`).")
    params_schema = schema(
        {"source": string("Name tag of the original volume"),
         "availability_zone": string("AZ the new volume must be in, e.g. us-east-1b"),
         "name": string("Name tag the new volume must carry"),
         "volume_type": {"enum": ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]}},
        ["source", "availability_zone"],
    )

    def run(self, ctx, *, source, availability_zone, name=None, volume_type=None):
        vol = volume_named(ctx, source)
        snap_ids = {s["SnapshotId"] for s in snapshots_of(ctx, vol["VolumeId"])}
        if not snap_ids:
            return failed(f"no snapshot of {source} exists yet, so no volume can have been restored from it")
        filters = [{"Name": "tag:Name", "Values": [name]}] if name else []
        vols = ctx.client("ec2").describe_volumes(Filters=filters)["Volumes"] if filters else \
            ctx.client("ec2").describe_volumes()["Volumes"]
        if name and not vols:
            return failed(f"there is no volume tagged Name={name}")
        restored = [v for v in vols if v.get("SnapshotId") in snap_ids]
        if not restored:
            who = name or "any volume"
            return failed(f"{who} was not created from a snapshot of {source} — pass --snapshot-id to create-volume")
        here = [v for v in restored if v.get("AvailabilityZone") == availability_zone]
        if not here:
            zones = ", ".join(sorted({v.get("AvailabilityZone", "?") for v in restored}))
            return failed(f"the volume restored from the snapshot of {source} is in {zones}, not in {availability_zone}")
        if volume_type:
            typed = [v for v in here if v.get("VolumeType") == volume_type]
            if not typed:
                return failed(f"the restored volume in {availability_zone} is {here[0].get('VolumeType')}, "
                              f"not {volume_type}")
            here = typed
        return passed(f"{here[0]['VolumeId']} in {availability_zone} was restored from a snapshot of {source}")


@register("ec2.volume_attached")
class VolumeAttached(Check):
    description = "The volume tagged Name=`volume` is attached to the instance tagged Name=`instance`."
    params_schema = schema({"volume": string("Name tag of the volume"), "instance": NAME}, ["volume", "instance"])

    def run(self, ctx, *, volume, instance):
        inst = running_instance(ctx, instance)
        named = ctx.client("ec2").describe_volumes(Filters=[{"Name": "tag:Name", "Values": [volume]}])["Volumes"]
        if not named:
            raise CheckFailed(f"there is no volume tagged Name={volume}")
        # A first attempt left behind under the same name must not hide the volume that is attached.
        vol = next((v for v in named if any(a.get("InstanceId") == inst["InstanceId"]
                                           for a in v.get("Attachments", []))), named[0])
        attached = [a.get("InstanceId") for a in vol.get("Attachments", []) if a.get("State") in
                    ("attached", "attaching", None)]
        if inst["InstanceId"] in attached:
            return passed(f"{volume} is attached to {instance}")
        if attached:
            return failed(f"{volume} is attached to {', '.join(attached)}, not to {instance} ({inst['InstanceId']})")
        zone = inst.get("Placement", {}).get("AvailabilityZone")
        extra = (f" — and it is in {vol.get('AvailabilityZone')} while {instance} is in {zone}; a volume attaches "
                 "only within its own zone") if zone and zone != vol.get("AvailabilityZone") else ""
        return failed(f"{volume} is not attached to any instance{extra}")


@register("ec2.volume_config")
class VolumeConfig(Check):
    description = ("The volume tagged Name=`volume` has the type given, at least `min_iops` IOPS and `min_throughput` "
                   "MiB/s, at most `max_size` GiB, and (optionally) was changed in place with ModifyVolume.")
    params_schema = schema(
        {"volume": string("Name tag of the volume"),
         "volume_type": {"enum": ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]},
         "min_iops": {"type": "integer", "minimum": 1},
         "min_throughput": {"type": "integer", "minimum": 1},
         "max_size": {"type": "integer", "minimum": 1},
         "modified_in_place": {"type": "boolean"}},
        ["volume"],
    )

    def run(self, ctx, *, volume, volume_type=None, min_iops=None, min_throughput=None, max_size=None,
            modified_in_place=False):
        vol = volume_named(ctx, volume)
        label = f"{volume} ({vol['VolumeId']})"
        if volume_type and vol.get("VolumeType") != volume_type:
            return failed(f"{label} is {vol.get('VolumeType')}, not {volume_type}")
        if min_iops and int(vol.get("Iops") or 0) < min_iops:
            return failed(f"{label} has {vol.get('Iops') or 'no provisioned'} IOPS, not at least {min_iops}")
        if min_throughput and int(vol.get("Throughput") or 0) < min_throughput:
            return failed(f"{label} has {vol.get('Throughput') or 'no provisioned'} MiB/s of throughput, "
                          f"not at least {min_throughput}")
        if max_size and int(vol.get("Size") or 0) > max_size:
            return failed(f"{label} is {vol.get('Size')} GiB — bigger than the {max_size} GiB needed; with gp3 "
                          "you buy IOPS and throughput without growing the volume")
        if modified_in_place:
            mods = ctx.client("ec2").describe_volumes_modifications(VolumeIds=[vol["VolumeId"]]).get(
                "VolumesModifications", [])
            if not mods:
                return failed(f"{label} was never modified in place — change the existing volume with "
                              "aws ec2 modify-volume instead of creating a new one")
        return passed(f"{label} is {vol.get('VolumeType')}, {vol.get('Size')} GiB, {vol.get('Iops')} IOPS, "
                      f"{vol.get('Throughput') or '—'} MiB/s")


@register("ec2.ebs_encryption_by_default")
class EbsEncryptionByDefault(Check):
    description = "EBS encryption by default is enabled for the Region."
    params_schema = schema({}, [])

    def run(self, ctx):
        enabled = ctx.client("ec2").get_ebs_encryption_by_default().get("EbsEncryptionByDefault")
        if not enabled:
            return failed("EBS encryption by default is off in this Region — aws ec2 enable-ebs-encryption-by-default")
        return passed("new EBS volumes in this Region are encrypted by default")
