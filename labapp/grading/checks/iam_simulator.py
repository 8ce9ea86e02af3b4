"""`iam.simulator_used` (journal): the learner asked the IAM policy simulator (lab iam-policy-simulator).

What the simulation answered is not graded (the journal keeps no request bodies); the lab's other checks
grade the fix itself with `iam.access`. This one only proves the learner reached for the tool.
"""

from __future__ import annotations

from . import Check, failed, passed, register, schema

SIMULATIONS = ("SimulatePrincipalPolicy", "SimulateCustomPolicy")


@register("iam.simulator_used")
class SimulatorUsed(Check):
    description = "Journal: the learner ran SimulatePrincipalPolicy or SimulateCustomPolicy successfully."
    params_schema = schema({}, [])

    def run(self, ctx):
        rows = [r for r in ctx.journal
                if r.get("source") == "learner" and r.get("service") == "iam" and r.get("action") in SIMULATIONS]
        ok = [r for r in rows if 200 <= int(r.get("status") or 0) < 300]
        if ok:
            return passed(f"you ran the policy simulator ({len(ok)} simulation{'s' if len(ok) > 1 else ''})")
        if rows:
            return failed(f"your simulation failed ({rows[-1].get('error_code') or rows[-1].get('status')}): "
                          "check the ARNs and action names you passed")
        return failed("the policy simulator has not been used yet (aws iam simulate-principal-policy)")
