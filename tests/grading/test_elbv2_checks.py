"""ELBv2 check kinds against the real moto server."""

from labapp.grading.grader import run_check

AMI = "ami-0d27e0fb3bac4d724"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def subnets(sb):
    ec2 = sb.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    by_az = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    return vpc, by_az["us-east-1a"], by_az["us-east-1b"]


def instance(sb, name):
    return sb.client("ec2").run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Instances"][0]["InstanceId"]


def test_load_balancer(sandbox):
    elb = sandbox.client("elbv2")
    _, a, b = subnets(sandbox)
    out = check(sandbox, "elbv2.load_balancer", name="shop-alb")
    assert not out.passed and out.feedback == "load balancer shop-alb does not exist"
    elb.create_load_balancer(Name="shop-nlb", Type="network", Subnets=[a])
    out = check(sandbox, "elbv2.load_balancer", name="shop-nlb", type="application")
    assert not out.passed and out.feedback == "shop-nlb is a Network Load Balancer, not an Application Load Balancer"
    out = check(sandbox, "elbv2.load_balancer", name="shop-nlb", min_azs=2)
    assert not out.passed and "is only in us-east-1a" in out.feedback
    sg = sandbox.client("ec2").create_security_group(GroupName="alb-sg", Description="x")["GroupId"]
    elb.create_load_balancer(Name="shop-alb", Subnets=[a, b], SecurityGroups=[sg])
    assert check(sandbox, "elbv2.load_balancer", name="shop-alb", type="application", scheme="internet-facing",
                 min_azs=2, security_groups=["alb-sg"]).passed
    out = check(sandbox, "elbv2.load_balancer", name="shop-alb", security_groups=["web-sg"])
    assert not out.passed and "does not use the security group web-sg" in out.feedback


def test_target_group_listener_and_rule(sandbox):
    elb = sandbox.client("elbv2")
    vpc, a, b = subnets(sandbox)
    web1, api1 = instance(sandbox, "web-1"), instance(sandbox, "api-1")
    lb = elb.create_load_balancer(Name="shop-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    web = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    api = elb.create_target_group(Name="api-tg", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    out = check(sandbox, "elbv2.target_group", name="web-tg", instances=["web-1"])
    assert not out.passed and out.feedback == "web-1 is not registered in target group web-tg (registered: nothing)"
    elb.register_targets(TargetGroupArn=web["TargetGroupArn"], Targets=[{"Id": web1}])
    elb.register_targets(TargetGroupArn=api["TargetGroupArn"], Targets=[{"Id": api1}])
    assert check(sandbox, "elbv2.target_group", name="web-tg", protocol="HTTP", port=80, instances=["web-1"]).passed
    out = check(sandbox, "elbv2.target_group", name="api-tg", port=80)
    assert not out.passed and out.feedback == "target group api-tg sends to port 8080, not 80"
    out = check(sandbox, "elbv2.listener", load_balancer="shop-alb", port=80)
    assert not out.passed and "has no listener on port 80 (listener ports: none)" in out.feedback
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": api["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
    out = check(sandbox, "elbv2.listener", load_balancer="shop-alb", port=80, forward_to="web-tg")
    assert not out.passed and "is forward to api-tg, not forward (all requests) to web-tg" in out.feedback
    elb.modify_listener(ListenerArn=lis, DefaultActions=[{"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}])
    assert check(sandbox, "elbv2.listener", load_balancer="shop-alb", port=80, protocol="HTTP",
                 forward_to="web-tg").passed
    rule = {"load_balancer": "shop-alb", "port": 80, "path": "/api/*", "forward_to": "api-tg"}
    elb.create_rule(ListenerArn=lis, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/api"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": api["TargetGroupArn"]}])
    out = check(sandbox, "elbv2.listener_rule", **rule)
    assert not out.passed and "(path patterns in its rules: /api)" in out.feedback
    elb.create_rule(ListenerArn=lis, Priority=20, Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}])
    out = check(sandbox, "elbv2.listener_rule", **rule)
    assert not out.passed and out.feedback.startswith(
        "a request for /api/example should reach api-tg, but the rule with priority 20 forwards them to web-tg")
    elb.create_rule(ListenerArn=lis, Priority=5, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": api["TargetGroupArn"]}])
    assert check(sandbox, "elbv2.listener_rule", **rule).passed


def shop(sb):
    """shop-alb with web-tg, api-tg and an HTTP:80 listener forwarding to web-tg: (listener arn, web arn, api arn)."""
    elb = sb.client("elbv2")
    vpc, a, b = subnets(sb)
    lb = elb.create_load_balancer(Name="shop-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    web = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    api = elb.create_target_group(Name="api-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
    return lis, web["TargetGroupArn"], api["TargetGroupArn"]


def path_rule(elb, lis, priority, patterns, actions, **extra):
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": patterns}}, *extra.get("more", [])]
    return elb.create_rule(ListenerArn=lis, Priority=priority, Conditions=conditions, Actions=actions)[
        "Rules"][0]["RuleArn"]


API_ROUTES = {"load_balancer": "shop-alb", "port": 80, "routes": [
    {"path": "/api/orders", "to": "api-tg"}, {"path": "/apidocs.html", "to": "web-tg"}, {"path": "/", "to": "web-tg"}]}


def test_a_higher_priority_catch_all_shadows_the_api_rule(sandbox):
    elb = sandbox.client("elbv2")
    lis, web, api = shop(sandbox)
    path_rule(elb, lis, 1, ["/*"], [{"Type": "forward", "TargetGroupArn": web}])
    api_rule = path_rule(elb, lis, 10, ["/api/*"], [{"Type": "forward", "TargetGroupArn": api}])
    rule = {"load_balancer": "shop-alb", "port": 80, "path": "/api/*", "forward_to": "api-tg"}
    out = check(sandbox, "elbv2.listener_rule", **rule)
    assert not out.passed and "the rule with priority 1 forwards them to web-tg" in out.feedback
    out = check(sandbox, "elbv2.routes", **API_ROUTES)
    assert not out.passed and out.feedback.startswith("a request for /api/orders should reach api-tg, but the rule "
                                                      "with priority 1 forwards them to web-tg")
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": api_rule, "Priority": 2}])  # still after priority 1
    assert not check(sandbox, "elbv2.routes", **API_ROUTES).passed
    first = elb.describe_rules(ListenerArn=lis)["Rules"]
    catch_all = next(r["RuleArn"] for r in first if r["Priority"] == "1")
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": catch_all, "Priority": 2000}])
    assert check(sandbox, "elbv2.routes", **API_ROUTES).passed
    assert check(sandbox, "elbv2.listener_rule", **rule).passed


def test_routes_follow_wildcards_case_and_other_conditions(sandbox):
    elb = sandbox.client("elbv2")
    lis, web, api = shop(sandbox)
    to_api = [{"Type": "forward", "TargetGroupArn": api}]
    upper = path_rule(elb, lis, 10, ["/API/*"], to_api)
    out = check(sandbox, "elbv2.routes", **API_ROUTES)
    assert not out.passed and "but the default action forwards them to web-tg" in out.feedback
    elb.delete_rule(RuleArn=upper)
    greedy = path_rule(elb, lis, 10, ["/api*"], to_api)  # also takes /apidocs.html
    out = check(sandbox, "elbv2.routes", **API_ROUTES)
    assert not out.passed and out.feedback.startswith("a request for /apidocs.html should reach web-tg, but the rule "
                                                      "with priority 10 forwards them to api-tg")
    elb.delete_rule(RuleArn=greedy)
    hosted = path_rule(elb, lis, 10, ["/api/*"], to_api,
                       more=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}}])
    assert not check(sandbox, "elbv2.routes", **API_ROUTES).passed  # the requests carry no such Host
    elb.delete_rule(RuleArn=hosted)
    path_rule(elb, lis, 10, ["/api", "/ap?/*"], to_api)  # ? matches exactly one character
    assert check(sandbox, "elbv2.routes", **API_ROUTES).passed


def test_weighted_forwards_count_every_group_with_weight(sandbox):
    elb = sandbox.client("elbv2")
    lis, web, api = shop(sandbox)

    def weighted(*pairs):
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": arn, "Weight": w} for arn, w in pairs]}}]

    split = path_rule(elb, lis, 10, ["/api/*"], weighted((api, 50), (web, 50)))
    out = check(sandbox, "elbv2.routes", **API_ROUTES)
    assert not out.passed and "forwards them to api-tg (weight 50), web-tg (weight 50)" in out.feedback
    elb.modify_rule(RuleArn=split, Actions=weighted((api, 1), (web, 0)))
    assert check(sandbox, "elbv2.routes", **API_ROUTES).passed
    elb.modify_listener(ListenerArn=lis, DefaultActions=weighted((web, 90), (api, 10)))
    out = check(sandbox, "elbv2.listener", load_balancer="shop-alb", port=80, forward_to="web-tg")
    assert not out.passed and "web-tg (weight 90), api-tg (weight 10)" in out.feedback
    assert not check(sandbox, "elbv2.routes", **API_ROUTES).passed
    elb.modify_listener(ListenerArn=lis, DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "404", "ContentType": "text/plain"}}])
    out = check(sandbox, "elbv2.routes", **API_ROUTES)
    assert not out.passed and "the default action answers them with a fixed response" in out.feedback
    path_rule(elb, lis, 50000, ["/*"], [{"Type": "forward", "TargetGroupArn": web}])  # a catch-all rule instead
    assert check(sandbox, "elbv2.routes", **API_ROUTES).passed


def test_stickiness_and_attributes(sandbox):
    elb = sandbox.client("elbv2")
    vpc, a, b = subnets(sandbox)
    tg = elb.create_target_group(Name="cart-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    arn = tg["TargetGroupArn"]
    out = check(sandbox, "elbv2.stickiness", target_group="cart-tg")
    assert not out.passed and out.feedback.startswith("stickiness is not enabled on cart-tg")
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"}])
    out = check(sandbox, "elbv2.stickiness", target_group="cart-tg", type="lb_cookie", duration_seconds=1800)
    assert not out.passed and out.feedback == "the stickiness cookie of cart-tg lasts 86400 seconds, not 1800"
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "1800"}])
    assert check(sandbox, "elbv2.stickiness", target_group="cart-tg", type="lb_cookie", duration_seconds=1800).passed
    args = {"target_group": "cart-tg", "key": "deregistration_delay.timeout_seconds", "value": "60"}
    out = check(sandbox, "elbv2.target_group_attribute", **args)
    assert not out.passed and out.feedback == "deregistration_delay.timeout_seconds of cart-tg is 300, not 60"
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "60"}])
    assert check(sandbox, "elbv2.target_group_attribute", **args).passed
    lb = elb.create_load_balancer(Name="game-nlb", Type="network", Subnets=[a, b])["LoadBalancers"][0]
    lba = {"load_balancer": "game-nlb", "key": "load_balancing.cross_zone.enabled", "value": "true"}
    out = check(sandbox, "elbv2.load_balancer_attribute", **lba)
    assert not out.passed and out.feedback == "load_balancing.cross_zone.enabled of game-nlb is false, not true"
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    assert check(sandbox, "elbv2.load_balancer_attribute", **lba).passed


def test_listers(sandbox):
    from labapp.grading.resources import list_resources

    elb = sandbox.client("elbv2")
    vpc, a, b = subnets(sandbox)
    lb = elb.create_load_balancer(Name="shop-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": instance(sandbox, "web-1")}])
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
    elb.create_rule(ListenerArn=lis, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    tables = list_resources(["elbv2.load_balancers", "elbv2.target_groups", "elbv2.listeners"], sandbox.client)
    assert all(t["error"] is None for t in tables), tables
    assert tables[0]["rows"][0][:2] == ["shop-alb", "application"]
    assert tables[1]["rows"][0][0] == "web-tg" and "healthy" in tables[1]["rows"][0][2]
    rules = {tuple(r[2:]) for r in tables[2]["rows"]}
    assert ("default", "forward to web-tg") in rules and ("10: path /api/*", "forward to web-tg") in rules


def test_elastic_ips(sandbox):
    from labapp.sandbox.extensions import elbv2 as extension

    extension.apply()  # the emulator applies it at start; this test server is plain moto
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    _, a, b = subnets(sandbox)
    elb.create_load_balancer(Name="plain-nlb", Type="network", Subnets=[a, b])
    out = check(sandbox, "elbv2.elastic_ips", load_balancer="plain-nlb", min_azs=2)
    assert not out.passed and out.feedback.startswith("plain-nlb has no Elastic IP in us-east-1a, us-east-1b")
    e1, e2 = ec2.allocate_address(Domain="vpc"), ec2.allocate_address(Domain="vpc")
    elb.create_load_balancer(Name="half-nlb", Type="network", SubnetMappings=[
        {"SubnetId": a, "AllocationId": e1["AllocationId"]}, {"SubnetId": b}])
    out = check(sandbox, "elbv2.elastic_ips", load_balancer="half-nlb", min_azs=2)
    assert not out.passed and "has no Elastic IP in us-east-1b" in out.feedback
    elb.create_load_balancer(Name="game-nlb", Type="network", SubnetMappings=[
        {"SubnetId": a, "AllocationId": e2["AllocationId"]}])
    out = check(sandbox, "elbv2.elastic_ips", load_balancer="game-nlb", min_azs=2)
    assert not out.passed and out.feedback == "game-nlb is in only 1 zone(s), not at least 2"
    assert check(sandbox, "elbv2.elastic_ips", load_balancer="game-nlb").passed


def test_listener_forward_to_is_judged_over_its_rules(sandbox):
    elb = sandbox.client("elbv2")
    vpc, a, b = subnets(sandbox)
    lb = elb.create_load_balancer(Name="cart-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="cart-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    args = {"load_balancer": "cart-alb", "port": 80, "forward_to": "cart-tg"}
    not_found = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}}]
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=not_found)["Listeners"][0]["ListenerArn"]
    out = check(sandbox, "elbv2.listener", **args)
    assert not out.passed and "not forward (all requests) to cart-tg" in out.feedback
    # A catch-all rule forwarding to the group sends every request there, whatever the default action says.
    catch_all = elb.create_rule(ListenerArn=lis, Priority=100, Conditions=[
        {"Field": "path-pattern", "Values": ["/*"]}], Actions=[
        {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Rules"][0]["RuleArn"]
    assert check(sandbox, "elbv2.listener", **args).passed
    # The default action forwards, but a maintenance rule left in front answers every request itself.
    elb.delete_rule(RuleArn=catch_all)
    elb.modify_listener(ListenerArn=lis, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    assert check(sandbox, "elbv2.listener", **args).passed
    elb.create_rule(ListenerArn=lis, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/cart/*"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "503", "ContentType": "text/plain", "MessageBody": "maintenance"}}])
    out = check(sandbox, "elbv2.listener", **args)
    assert not out.passed and out.feedback.startswith(
        "a request for …/cart/example on port 80 does not reach cart-tg: the rule with priority 1 answers them "
        "with a fixed response")


def test_https_listener_and_redirect(sandbox):
    elb, acm = sandbox.client("elbv2"), sandbox.client("acm")
    vpc, a, b = subnets(sandbox)
    lb = elb.create_load_balancer(Name="secure-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    fwd = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
    args = {"load_balancer": "secure-alb", "domain": "shop.example.com", "forward_to": "web-tg"}
    plain = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=fwd)["Listeners"][0]
    out = check(sandbox, "elbv2.listener_redirect", load_balancer="secure-alb", port=80)
    assert not out.passed and out.feedback == ("a request for http://…/ on port 80 is not redirected: the default "
                                               "action forwards them to web-tg — it should redirect to HTTPS")
    elb.modify_listener(ListenerArn=plain["ListenerArn"], DefaultActions=[{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_302"}}])
    out = check(sandbox, "elbv2.listener_redirect", load_balancer="secure-alb", port=80)
    assert not out.passed and out.feedback == ("the redirect on port 80 (default action) uses HTTP_302, not HTTP_301 "
                                               "(a permanent redirect)")
    elb.modify_listener(ListenerArn=plain["ListenerArn"], DefaultActions=[{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    assert check(sandbox, "elbv2.listener_redirect", load_balancer="secure-alb", port=80).passed
    out = check(sandbox, "elbv2.https_listener", **args)
    assert not out.passed and "has no listener on port 443" in out.feedback
    other = acm.request_certificate(DomainName="blog.example.org")["CertificateArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=fwd,
                                   Certificates=[{"CertificateArn": other}])["Listeners"][0]
    out = check(sandbox, "elbv2.https_listener", **args)
    assert not out.passed and out.feedback == ("the HTTPS listener of secure-alb has no certificate for "
                                               "shop.example.com (blog.example.org)")
    cert = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
    elb.modify_listener(ListenerArn=listener["ListenerArn"], Certificates=[{"CertificateArn": cert}])
    assert check(sandbox, "elbv2.https_listener", **args).passed


def secure_alb(sb):
    elb = sb.client("elbv2")
    vpc, a, b = subnets(sb)
    lb = elb.create_load_balancer(Name="secure-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    return lb, tg


def redirect(**conf):
    return [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301", **conf}}]


def test_redirect_must_keep_host_path_and_query_for_every_request(sandbox):
    elb = sandbox.client("elbv2")
    lb, tg = secure_alb(sandbox)
    args = {"load_balancer": "secure-alb", "port": 80}
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=redirect(Path="/"))["Listeners"][0]["ListenerArn"]
    out = check(sandbox, "elbv2.listener_redirect", **args)
    assert not out.passed and "sends every page to the path / instead of keeping it (/#{path})" in out.feedback
    elb.modify_listener(ListenerArn=lis, DefaultActions=redirect(Host="www.example.org"))
    out = check(sandbox, "elbv2.listener_redirect", **args)
    assert not out.passed and "sends everyone to the host www.example.org" in out.feedback
    assert not check(sandbox, "elbv2.listener_redirect", host="shop.example.com", **args).passed
    elb.modify_listener(ListenerArn=lis, DefaultActions=redirect(Host="Shop.Example.com", Query="#{query}"))
    assert check(sandbox, "elbv2.listener_redirect", host="shop.example.com", **args).passed
    elb.modify_listener(ListenerArn=lis, DefaultActions=redirect(Port="#{port}"))
    out = check(sandbox, "elbv2.listener_redirect", **args)
    assert not out.passed and "goes to port #{port}, not 443" in out.feedback
    elb.modify_listener(ListenerArn=lis, DefaultActions=redirect(Host="#{host}", Path="/#{path}", Query="#{query}"))
    assert check(sandbox, "elbv2.listener_redirect", **args).passed
    # a rule that still forwards some pages over plain HTTP: those requests are not redirected
    elb.create_rule(ListenerArn=lis, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/images/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg}])
    out = check(sandbox, "elbv2.listener_redirect", **args)
    assert not out.passed and out.feedback.startswith("a request for http://…/images/logo.png on port 80 is not "
                                                      "redirected: the rule with priority 1 forwards them to web-tg")


def test_redirect_judges_every_rule_not_only_sample_paths(sandbox):
    elb = sandbox.client("elbv2")
    lb, tg = secure_alb(sandbox)
    args = {"load_balancer": "secure-alb", "port": 80}
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=redirect())["Listeners"][0]["ListenerArn"]
    fwd = [{"Type": "forward", "TargetGroupArn": tg}]
    # No sample path is under /static/, yet those pages stay on plain HTTP.
    static = elb.create_rule(ListenerArn=lis, Priority=5, Actions=fwd,
                             Conditions=[{"Field": "path-pattern", "Values": ["/static/*"]}])["Rules"][0]["RuleArn"]
    out = check(sandbox, "elbv2.listener_redirect", **args)
    assert not out.passed and out.feedback.startswith("a request for http://…/static/example on port 80 is not "
                                                      "redirected: the rule with priority 5 forwards them")
    elb.delete_rule(RuleArn=static)
    header = elb.create_rule(ListenerArn=lis, Priority=6, Actions=fwd, Conditions=[
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Debug", "Values": ["1"]}}])["Rules"][0]
    out = check(sandbox, "elbv2.listener_redirect", **args)
    assert not out.passed and "(with the header, query string or source address that rule asks for)" in out.feedback
    # Shadowed by a catch-all redirect with a higher priority: that rule is never reached, so it is harmless.
    elb.create_rule(ListenerArn=lis, Priority=1, Actions=redirect(),
                    Conditions=[{"Field": "path-pattern", "Values": ["*"]}])
    assert check(sandbox, "elbv2.listener_redirect", **args).passed
    elb.delete_rule(RuleArn=header["RuleArn"])
    # A rule that redirects its pages properly is fine whatever it matches.
    elb.create_rule(ListenerArn=lis, Priority=7, Actions=redirect(),
                    Conditions=[{"Field": "host-header", "Values": ["*.example.com"]}])
    assert check(sandbox, "elbv2.listener_redirect", **args).passed


def test_redirect_by_a_catch_all_rule_and_sni_certificates(sandbox):
    elb, acm = sandbox.client("elbv2"), sandbox.client("acm")
    lb, tg = secure_alb(sandbox)
    fwd = [{"Type": "forward", "TargetGroupArn": tg}]
    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=fwd)["Listeners"][0]
    elb.create_rule(ListenerArn=lis["ListenerArn"], Priority=1, Actions=redirect(),
                    Conditions=[{"Field": "path-pattern", "Values": ["/*"]}])
    assert check(sandbox, "elbv2.listener_redirect", load_balancer="secure-alb", port=80).passed
    args = {"load_balancer": "secure-alb", "domain": "shop.example.com", "forward_to": "web-tg"}
    deep = acm.request_certificate(DomainName="*.example.com")["CertificateArn"]
    wide = acm.request_certificate(DomainName="*.com")["CertificateArn"]  # a wildcard covers one label only
    https = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=fwd,
                                Certificates=[{"CertificateArn": wide}])["Listeners"][0]["ListenerArn"]
    out = check(sandbox, "elbv2.https_listener", **args)
    assert not out.passed and "has no certificate for shop.example.com (*.com)" in out.feedback
    elb.add_listener_certificates(ListenerArn=https, Certificates=[{"CertificateArn": deep}])  # SNI
    assert check(sandbox, "elbv2.https_listener", **args).passed
    elb.create_rule(ListenerArn=https, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/checkout*"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}])
    out = check(sandbox, "elbv2.https_listener", **args)
    assert not out.passed and "a request for …/checkout on port 443 does not reach web-tg" in out.feedback
    # A path no sample asks for is judged too: the rule is probed with a request it matches.
    for r in elb.describe_rules(ListenerArn=https)["Rules"]:
        if not r["IsDefault"]:
            elb.modify_rule(RuleArn=r["RuleArn"], Conditions=[{"Field": "path-pattern", "Values": ["/static/*"]}])
    out = check(sandbox, "elbv2.https_listener", **args)
    assert not out.passed and "a request for …/static/example on port 443 does not reach web-tg" in out.feedback


def test_stickiness_on_the_group_and_on_weighted_forwards(sandbox):
    from botocore.exceptions import ClientError

    elb = sandbox.client("elbv2")
    vpc, a, b = subnets(sandbox)
    lb = elb.create_load_balancer(Name="cart-alb", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    cart = elb.create_target_group(Name="cart-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    canary = elb.create_target_group(Name="cart-v2", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    want = {"target_group": "cart-tg", "type": "lb_cookie", "duration_seconds": 1800}

    def forward(*pairs, sticky=False):
        return [{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in pairs],
            "TargetGroupStickinessConfig": {"Enabled": sticky, **({"DurationSeconds": 1800} if sticky else {})}}}]

    lis = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                              DefaultActions=forward((cart, 1), sticky=True))["Listeners"][0]["ListenerArn"]
    out = check(sandbox, "elbv2.stickiness", **want)  # group-level stickiness only: not bound to one server
    assert not out.passed and "keeps a client on the group, not on one server" in out.feedback
    for bad in ("0", "700000", "30m"):  # the emulator refuses what AWS refuses
        try:
            elb.modify_target_group_attributes(TargetGroupArn=cart, Attributes=[
                {"Key": "stickiness.lb_cookie.duration_seconds", "Value": bad}])
            raise AssertionError(f"duration {bad} was accepted")
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ValidationError" and "1-604800" in str(err)
    elb.modify_target_group_attributes(TargetGroupArn=cart, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "1800"}])
    assert check(sandbox, "elbv2.stickiness", **want).passed
    elb.modify_listener(ListenerArn=lis, DefaultActions=forward((cart, 90), (canary, 10)))
    out = check(sandbox, "elbv2.stickiness", **want)
    assert not out.passed and "splits requests between cart-tg and other target groups" in out.feedback
    elb.modify_listener(ListenerArn=lis, DefaultActions=forward((cart, 90), (canary, 10), sticky=True))
    assert check(sandbox, "elbv2.stickiness", **want).passed


def test_cross_zone_and_ip_targets(sandbox):
    elb, ec2 = sandbox.client("elbv2"), sandbox.client("ec2")
    vpc, a, b = subnets(sandbox)
    lb = elb.create_load_balancer(Name="game-nlb", Type="network", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="game-tg", Protocol="TCP", Port=7777, VpcId=vpc, TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"]
    args = {"load_balancer": "game-nlb", "target_group": "game-tg"}
    out = check(sandbox, "elbv2.cross_zone", **args)
    assert not out.passed and "set by the load balancer game-nlb" in out.feedback
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])  # the group's setting wins
    assert check(sandbox, "elbv2.cross_zone", **args).passed
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}])
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "false"}])
    out = check(sandbox, "elbv2.cross_zone", **args)
    assert not out.passed and "set by the target group game-tg" in out.feedback
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "load_balancing.cross_zone.enabled", "Value": "use_load_balancer_configuration"}])
    assert check(sandbox, "elbv2.cross_zone", **args).passed
    game = instance(sandbox, "game-1")
    ip = ec2.describe_instances(InstanceIds=[game])["Reservations"][0]["Instances"][0]["PrivateIpAddress"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 7777}])
    assert check(sandbox, "elbv2.target_group", name="game-tg", instances=["game-1"]).passed
    other = instance(sandbox, "web-1")
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ec2.describe_instances(InstanceIds=[other])[
        "Reservations"][0]["Instances"][0]["PrivateIpAddress"], "Port": 7777}])
    assert check(sandbox, "elbv2.target_group", name="game-tg", instances=["game-1"]).passed
    out = check(sandbox, "elbv2.target_group", name="game-tg", instances=["game-1"], only=True)
    assert not out.passed and out.feedback == ("target group game-tg also holds web-1, so some of its requests would "
                                               "reach it — deregister it")
