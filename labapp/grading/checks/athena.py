"""Athena check kinds: workgroups and query executions."""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from . import Check, failed, passed, register, schema, string


@register("athena.workgroup_output")
class WorkgroupOutput(Check):
    description = "The workgroup exists, is enabled, and writes query results under the S3 location (prefix match)."
    params_schema = schema({"workgroup": string("workgroup name"), "output": string("s3://bucket/prefix/")},
                           ["workgroup", "output"])

    def run(self, ctx, *, workgroup, output):
        try:
            wg = ctx.client("athena").get_work_group(WorkGroup=workgroup).get("WorkGroup")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("InvalidRequestException", "ResourceNotFoundException"):
                wg = None
            else:
                raise
        if not wg:  # moto answers an unknown workgroup with an empty document
            return failed(f"workgroup {workgroup} does not exist")
        location = (wg.get("Configuration", {}).get("ResultConfiguration") or {}).get("OutputLocation", "")
        if not location:
            return failed(f"workgroup {workgroup} has no query result location — set OutputLocation")
        # Under the folder, not beside it: s3://r/analysts-old/ is not under s3://r/analysts/.
        if not (location.rstrip("/") + "/").startswith(output.rstrip("/") + "/"):
            return failed(f"workgroup {workgroup} writes results to {location}, not under {output}")
        if wg.get("State", "ENABLED") != "ENABLED":
            return failed(f"workgroup {workgroup} is {wg.get('State')}")
        return passed(f"workgroup {workgroup} writes results to {location}")


@register("athena.query_succeeded")
class QuerySucceeded(Check):
    description = ("A query execution in the workgroup SUCCEEDED and reads the table (`table`: database.table, "
                   "found in FROM/JOIN, qualified or through the query's database context, quotes allowed), or "
                   "whose SQL mentions the text `contains`.")
    params_schema = schema({"workgroup": string("workgroup name"),
                            "table": string("database.table the query must read, e.g. sales.orders"),
                            "contains": string("text the SQL must contain")}, ["workgroup"])

    def run(self, ctx, *, workgroup, table=None, contains=None):
        athena = ctx.client("athena")
        ids = athena.list_query_executions(WorkGroup=workgroup).get("QueryExecutionIds", [])
        if not ids:
            return failed(f"no query has been run in workgroup {workgroup} — pass --work-group {workgroup}")
        wanted = table or contains or "the table"
        reading = []
        for qid in ids[:50]:
            q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if q.get("WorkGroup", workgroup) != workgroup:
                continue
            sql = q.get("Query", "")
            context = q.get("QueryExecutionContext") or {}
            if table and table.lower() not in tables_read(sql, context.get("Database"), context.get("Catalog")):
                continue
            if contains and contains.lower() not in sql.lower():
                continue
            reading.append(q)
            if q.get("Status", {}).get("State") == "SUCCEEDED":
                return passed(f"query {qid[:8]}… in {workgroup} read {wanted} and SUCCEEDED")
        if not reading:
            return failed(f"no query in {workgroup} reads {wanted} (FROM {wanted}, or FROM "
                          f"{wanted.rsplit('.', 1)[-1]} with --query-execution-context Database="
                          f"{wanted.split('.', 1)[0]})")
        return failed(f"no query reading {wanted} in {workgroup} has SUCCEEDED "
                      f"(last: {reading[0].get('Status', {}).get('State')})")


_IDENT = r'(?:"([^"]+)"|`([^`]+)`|([A-Za-z_][\w]*))'
_TABLE_REF = re.compile(rf"\b(?:from|join)\s+{_IDENT}(?:\s*\.\s*{_IDENT})?(?:\s*\.\s*{_IDENT})?", re.IGNORECASE)
GLUE_CATALOG = "awsdatacatalog"  # Athena's name for the Glue Data Catalog, in catalog.database.table


def tables_read(sql: str, default_database: str | None, catalog: str | None = None) -> set[str]:
    """database.table names (lower case) in the FROM and JOIN clauses of the SQL; an unqualified table is in
    the query's database context (default: `default`). A three-part name (catalog.database.table, as the
    console writes "AwsDataCatalog"."sales"."orders") reads the Glue table only when the catalog is Glue's."""
    names = set()
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)  # string literals never name a table
    for m in _TABLE_REF.finditer(sql):
        parts = [next((g for g in m.groups()[i:i + 3] if g), None) for i in (0, 3, 6)]
        parts = [p for p in parts if p]
        in_catalog = parts.pop(0) if len(parts) == 3 else (catalog or GLUE_CATALOG)
        if in_catalog.lower() != GLUE_CATALOG:
            continue
        database, name = parts if len(parts) == 2 else (default_database or "default", parts[0])
        names.add(f"{database}.{name}".lower())
    return names
