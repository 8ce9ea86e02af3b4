"""Athena check kinds: workgroups and query executions."""

from __future__ import annotations

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
        if not location.rstrip("/").startswith(output.rstrip("/")):
            return failed(f"workgroup {workgroup} writes results to {location}, not under {output}")
        if wg.get("State", "ENABLED") != "ENABLED":
            return failed(f"workgroup {workgroup} is {wg.get('State')}")
        return passed(f"workgroup {workgroup} writes results to {location}")


@register("athena.query_succeeded")
class QuerySucceeded(Check):
    description = "A query execution in the workgroup SUCCEEDED, and its SQL mentions the given text (e.g. the table)."
    params_schema = schema({"workgroup": string("workgroup name"), "contains": string("text the SQL must contain")},
                           ["workgroup"])

    def run(self, ctx, *, workgroup, contains=None):
        athena = ctx.client("athena")
        ids = athena.list_query_executions(WorkGroup=workgroup).get("QueryExecutionIds", [])
        if not ids:
            return failed(f"no query has been run in workgroup {workgroup} — pass --work-group {workgroup}")
        seen = []
        for qid in ids[:50]:
            q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            seen.append(q)
            if q.get("WorkGroup", workgroup) != workgroup:
                continue
            if contains and contains.lower() not in q.get("Query", "").lower():
                continue
            if q.get("Status", {}).get("State") == "SUCCEEDED":
                return passed(f"query {qid[:8]}… in {workgroup} SUCCEEDED")
        if contains and not any(contains.lower() in q.get("Query", "").lower() for q in seen):
            return failed(f"no query in {workgroup} reads {contains}")
        return failed(f"no query reading {contains or 'the table'} in {workgroup} has SUCCEEDED")
