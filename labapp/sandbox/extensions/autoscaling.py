"""EC2 Auto Scaling: traffic sources, the API AWS now recommends for attaching load balancer target groups.

`attach-traffic-sources` / `detach-traffic-sources` / `describe-traffic-sources` (and `--traffic-sources` on
`create-auto-scaling-group`) are the successors of `attach-load-balancer-target-groups`. moto 5.2.5 answers
500 (NotImplementedError) to the first three and ignores the last. A target group attached either way is
the same thing on AWS: it shows in the group's `TargetGroupARNs` and its instances are registered in it.
Here an `elbv2` traffic source is stored as an attached target group; VPC Lattice sources are refused, as
the emulator has no VPC Lattice."""

from __future__ import annotations

import functools


def apply() -> None:
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import ActionResult, EmptyResult

    if getattr(AutoScalingResponse.create_auto_scaling_group, "_lab_patched", False):
        return

    def target_group_arns(sources) -> list[str]:
        arns = []
        for source in sources or []:
            kind = source.get("Type") or "elbv2"
            if kind != "elbv2":
                raise ValidationError(f"Traffic source type {kind} is not supported by this sandbox (only elbv2)")
            arns.append(source["Identifier"])
        return arns

    def attach_traffic_sources(self):
        arns = target_group_arns(self._get_param("TrafficSources", []))
        self.autoscaling_backend.attach_load_balancer_target_groups(self._get_param("AutoScalingGroupName"), arns)
        return EmptyResult()

    def detach_traffic_sources(self):
        arns = target_group_arns(self._get_param("TrafficSources", []))
        self.autoscaling_backend.detach_load_balancer_target_groups(self._get_param("AutoScalingGroupName"), arns)
        return EmptyResult()

    def describe_traffic_sources(self):
        name = self._get_param("AutoScalingGroupName")
        arns = self.autoscaling_backend.describe_load_balancer_target_groups(name)
        return ActionResult({"TrafficSources": [
            {"TrafficSource": arn, "Identifier": arn, "Type": "elbv2", "State": "InService"} for arn in arns]})

    original_create = AutoScalingResponse.create_auto_scaling_group

    @functools.wraps(original_create)
    def create_auto_scaling_group(self):
        arns = target_group_arns(self._get_param("TrafficSources", []))
        result = original_create(self)
        if arns:
            self.autoscaling_backend.attach_load_balancer_target_groups(self._get_param("AutoScalingGroupName"), arns)
        return result

    create_auto_scaling_group._lab_patched = True
    AutoScalingResponse.create_auto_scaling_group = create_auto_scaling_group
    AutoScalingResponse.attach_traffic_sources = attach_traffic_sources
    AutoScalingResponse.detach_traffic_sources = detach_traffic_sources
    AutoScalingResponse.describe_traffic_sources = describe_traffic_sources
