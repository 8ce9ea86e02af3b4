"""Athena and Glue check kinds."""

from labapp.grading.grader import run_check


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


def test_workgroup_table_query(sandbox):
    athena, glue = sandbox.client("athena"), sandbox.client("glue")
    assert "does not exist" in check(sandbox, "athena.workgroup_output", workgroup="wg", output="s3://r/wg/").feedback
    athena.create_work_group(Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/other/"}})
    out = check(sandbox, "athena.workgroup_output", workgroup="wg", output="s3://r/wg/")
    assert not out.passed and "not under s3://r/wg/" in out.feedback
    athena.create_work_group(Name="wg2", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/wg/"}})
    assert check(sandbox, "athena.workgroup_output", workgroup="wg2", output="s3://r/wg/").passed

    assert "database sales does not exist" in check(sandbox, "glue.table", database="sales", table="orders").feedback
    glue.create_database(DatabaseInput={"Name": "sales"})
    assert "table orders does not exist" in check(sandbox, "glue.table", database="sales", table="orders").feedback
    glue.create_table(DatabaseName="sales", TableInput={"Name": "orders", "StorageDescriptor": {
        "Columns": [{"Name": "order_id", "Type": "string"}], "Location": "s3://d/"}})
    out = check(sandbox, "glue.table", database="sales", table="orders", location="s3://d/sales/")
    assert not out.passed and "not s3://d/sales/" in out.feedback
    out = check(sandbox, "glue.table", database="sales", table="orders", column="amount")
    assert not out.passed and "no column amount" in out.feedback
    assert check(sandbox, "glue.table", database="sales", table="orders", location="s3://d").passed

    assert "no query has been run" in check(sandbox, "athena.query_succeeded", workgroup="wg2").feedback
    athena.start_query_execution(QueryString="SELECT 1", WorkGroup="wg2")
    out = check(sandbox, "athena.query_succeeded", workgroup="wg2", contains="orders")
    assert not out.passed and "no query in wg2 reads orders" in out.feedback
    athena.start_query_execution(QueryString="SELECT * FROM sales.orders", WorkGroup="wg2")
    assert check(sandbox, "athena.query_succeeded", workgroup="wg2", contains="orders").passed
