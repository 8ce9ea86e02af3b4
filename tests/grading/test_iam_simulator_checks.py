from labapp.grading.checks import CheckContext
from labapp.grading.grader import run_check


def check(journal):
    return run_check({"kind": "iam.simulator_used"}, {}, CheckContext(journal=journal))


def row(action, status=200, source="learner", error_code=""):
    return {"service": "iam", "action": action, "status": status, "source": source, "error_code": error_code,
            "params": {}}


def test_simulator_used_needs_a_successful_simulation_by_the_learner():
    assert not check([]).passed
    assert not check([row("SimulatePrincipalPolicy", source="platform"), row("ListUsers")]).passed
    refused = check([row("SimulatePrincipalPolicy", 403, error_code="AccessDenied")])
    assert not refused.passed and "AccessDenied" in refused.feedback
    assert check([row("SimulateCustomPolicy")]).passed
    assert check([row("SimulatePrincipalPolicy", 400), row("SimulatePrincipalPolicy")]).passed
