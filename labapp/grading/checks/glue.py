"""Glue Data Catalog check kinds (the catalog behind Athena)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, failed, passed, register, schema, string


@register("glue.table")
class Table(Check):
    description = ("The Glue database and table exist; the table's data is under the S3 location and it has at "
                   "least `min_columns` columns (optionally a named column).")
    params_schema = schema(
        {"database": string("database name"), "table": string("table name"),
         "location": string("s3://bucket/prefix/ the table must read"),
         "column": string("a column the table must have"),
         "min_columns": {"type": "integer", "minimum": 1, "default": 1}},
        ["database", "table"],
    )

    def run(self, ctx, *, database, table, location=None, column=None, min_columns=1):
        glue = ctx.client("glue")
        try:
            glue.get_database(Name=database)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                return failed(f"database {database} does not exist in the data catalog")
            raise
        try:
            t = glue.get_table(DatabaseName=database, Name=table)["Table"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                names = [x["Name"] for x in glue.get_tables(DatabaseName=database).get("TableList", [])]
                return failed(f"table {table} does not exist in {database} (tables: {', '.join(names) or 'none'})")
            raise
        sd = t.get("StorageDescriptor", {})
        columns = [c["Name"] for c in sd.get("Columns", [])]
        if location and sd.get("Location", "").rstrip("/") != location.rstrip("/"):
            return failed(f"table {table} reads {sd.get('Location') or 'no location'}, not {location}")
        if len(columns) < min_columns:
            return failed(f"table {table} has {len(columns)} column(s), at least {min_columns} needed")
        if column and column not in columns:
            return failed(f"table {table} has no column {column} (columns: {', '.join(columns)})")
        return passed(f"table {database}.{table} reads {sd.get('Location')}")
