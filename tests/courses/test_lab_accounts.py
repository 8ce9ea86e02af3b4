"""Lab files may declare extra accounts (`accounts: [partner]`): `{{ partner_account_id }}` is then a
parameter, and setup steps, checks and solution steps may name one of those accounts, and no other."""

from labapp.courses.loader import scan
from labapp.grading.checks import CheckContext, CheckOutcome
from labapp.grading.grader import run_check

from tests.courses.test_loader import LAB, edit, root  # noqa: F401


def test_declared_account_gives_its_id_placeholder_and_named_steps(root):  # noqa: F811
    lab = root / LAB
    edit(lab, "services: [s3]", "services: [s3]\naccounts: [partner]")
    edit(
        lab,
        "Enable versioning on `{{ bucket }}`.",
        "Enable versioning on `{{ bucket }}` in {{ partner_account_id }}.",
    )
    edit(lab, "  - call: s3.create_bucket\n", "  - call: s3.create_bucket\n    account: partner\n")
    edit(
        lab,
        "      - kind: s3.bucket_versioning\n",
        "      - kind: s3.bucket_versioning\n        account: partner\n",
    )
    edit(lab, "solution:\n  - aws s3api", "solution:\n  - account: partner\n    run: aws s3api")
    assert [str(e) for e in scan(root).errors] == []


def test_undeclared_account_and_its_placeholder_are_errors(root):  # noqa: F811
    lab = root / LAB
    edit(
        lab,
        "Enable versioning on `{{ bucket }}`.",
        "Enable versioning on `{{ bucket }}` in {{ partner_account_id }}.",
    )
    edit(lab, "  - call: s3.create_bucket\n", "  - call: s3.create_bucket\n    account: partner\n")
    messages = [e.message for e in scan(root).errors]
    assert "{{ partner_account_id }} is not a declared parameter" in messages
    assert any("account 'partner' is not one of the lab's accounts" in m for m in messages)


def test_a_check_with_an_account_runs_against_that_accounts_context():
    seen = []

    class Probe:
        def run(self, ctx, **args):
            seen.append((ctx.params["account_id"], args))
            return CheckOutcome(True, "ok")

    main = CheckContext(params={"account_id": "111111111111"})
    main.accounts["partner"] = CheckContext(params={"account_id": "222222222222"})
    from labapp.grading import grader

    original = grader.get_check
    grader.get_check = lambda kind: Probe()
    try:
        run_check({"kind": "x.probe", "account": "partner", "role": "r"}, {}, main)
        run_check({"kind": "x.probe", "role": "r"}, {}, main)
    finally:
        grader.get_check = original
    assert seen == [("222222222222", {"role": "r"}), ("111111111111", {"role": "r"})]
