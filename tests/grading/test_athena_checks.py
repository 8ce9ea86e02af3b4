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


def test_results_folder_beside_the_one_asked_fails(sandbox):
    sandbox.client("athena").create_work_group(
        Name="analysts", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/analysts-old/"}})
    out = check(sandbox, "athena.workgroup_output", workgroup="analysts", output="s3://r/analysts/")
    assert not out.passed and "not under s3://r/analysts/" in out.feedback


CSV = {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", "Parameters": {"field.delim": ","}}
COLUMNS = {"order_id": "string", "country": "string", "amount": "double"}


def _table(sandbox, columns, serde):
    glue = sandbox.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    sd = {"Columns": [{"Name": n, "Type": t} for n, t in columns.items()], "Location": "s3://d/sales/",
          "InputFormat": "org.apache.hadoop.mapred.TextInputFormat"}
    if serde:
        sd["SerdeInfo"] = serde
    glue.create_table(DatabaseName="sales", TableInput={"Name": "orders", "StorageDescriptor": sd})
    return check(sandbox, "glue.table", database="sales", table="orders", location="s3://d/sales/",
                 columns=COLUMNS, format="csv")


def test_table_types_and_csv_format(sandbox):
    out = _table(sandbox, {**COLUMNS, "amount": "string"}, CSV)
    assert not out.passed and "column amount of orders is string, not double" in out.feedback


def test_table_without_a_serde_does_not_read_csv(sandbox):
    out = _table(sandbox, COLUMNS, None)
    assert not out.passed and "SerDe is not set" in out.feedback


def test_table_with_open_csv_serde_and_upper_case_types(sandbox):
    assert _table(sandbox, {"ORDER_ID": "STRING", "country": "string", "amount": "DOUBLE"},
                  {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde"}).passed


def test_query_must_read_the_table(sandbox):
    athena = sandbox.client("athena")
    athena.create_work_group(Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/wg/"}})
    athena.start_query_execution(QueryString="SELECT 'orders' AS note", WorkGroup="wg")
    athena.start_query_execution(QueryString="SELECT * FROM sales.orders_2025", WorkGroup="wg")
    out = check(sandbox, "athena.query_succeeded", workgroup="wg", table="sales.orders")
    assert not out.passed and "no query in wg reads sales.orders" in out.feedback
    athena.start_query_execution(QueryString='SELECT count(*) FROM "orders" WHERE country = \'DE\'', WorkGroup="wg",
                                 QueryExecutionContext={"Database": "sales"})
    assert check(sandbox, "athena.query_succeeded", workgroup="wg", table="sales.orders").passed


def test_query_naming_the_table_with_its_catalog(sandbox):
    # catalog.database.table is how the console's "Preview table" names it; another catalog is another table.
    athena = sandbox.client("athena")
    athena.create_work_group(Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/wg/"}})
    athena.start_query_execution(QueryString='SELECT * FROM "lakehouse"."sales"."orders"', WorkGroup="wg")
    athena.start_query_execution(QueryString="SELECT * FROM sales.orders", WorkGroup="wg",
                                 QueryExecutionContext={"Catalog": "lakehouse"})
    out = check(sandbox, "athena.query_succeeded", workgroup="wg", table="sales.orders")
    assert not out.passed and "no query in wg reads sales.orders" in out.feedback
    athena.start_query_execution(QueryString='SELECT * FROM "AwsDataCatalog"."sales"."orders" LIMIT 10', WorkGroup="wg")
    assert check(sandbox, "athena.query_succeeded", workgroup="wg", table="sales.orders").passed
