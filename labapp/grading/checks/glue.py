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
         "columns": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": "column name -> type the table must have, e.g. {amount: double}"},
         "format": {"enum": ["csv"], "description": "the table must parse its files as comma-separated text"},
         "min_columns": {"type": "integer", "minimum": 1, "default": 1}},
        ["database", "table"],
    )

    def run(self, ctx, *, database, table, location=None, column=None, columns=None, format=None,  # noqa: A002
            min_columns=1):
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
        columns_wanted = columns
        columns = [c["Name"] for c in sd.get("Columns", [])]
        if location and sd.get("Location", "").rstrip("/") != location.rstrip("/"):
            return failed(f"table {table} reads {sd.get('Location') or 'no location'}, not {location}")
        if len(columns) < min_columns:
            return failed(f"table {table} has {len(columns)} column(s), at least {min_columns} needed")
        if column and column not in columns:
            return failed(f"table {table} has no column {column} (columns: {', '.join(columns)})")
        types = {c["Name"].lower(): str(c.get("Type", "")).lower().strip() for c in sd.get("Columns", [])}
        for name, wanted in (columns_wanted or {}).items():
            if name.lower() not in types:
                return failed(f"table {table} has no column {name} (columns: {', '.join(columns)})")
            if types[name.lower()] != wanted.lower():
                return failed(f"column {name} of {table} is {types[name.lower()] or 'untyped'}, not {wanted}"
                              + (" — sum() needs a number" if wanted.lower() in ("double", "int", "bigint") else ""))
        if format == "csv":
            problem = _csv_problem(sd)
            if problem:
                return failed(f"table {table} would not read the CSV files: {problem}")
        return passed(f"table {database}.{table} reads {sd.get('Location')}")


# SerDes that read delimited text, and the parameter each takes its delimiter from (with its default).
_TEXT_SERDES = {
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe": (("field.delim", "serialization.format"), "\x01"),
    "org.apache.hadoop.hive.serde2.OpenCSVSerde": (("separatorChar",), ","),
}
_TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"


def _csv_problem(sd: dict) -> str:
    """Why Athena would not split the table's files on commas ("" when it would)."""
    serde = sd.get("SerdeInfo") or {}
    library = serde.get("SerializationLibrary") or ""
    if library not in _TEXT_SERDES:
        return (f"its SerDe is {library or 'not set'} — use LazySimpleSerDe with field.delim ',' "
                "or OpenCSVSerde")
    keys, default = _TEXT_SERDES[library]
    params = serde.get("Parameters") or {}
    delimiter = next((params[k] for k in keys if params.get(k)), default)
    if delimiter != ",":
        return f"{library.rsplit('.', 1)[-1]} splits fields on {delimiter!r}, not ',' (set {keys[0]} to ',')"
    if sd.get("InputFormat") and sd["InputFormat"] != _TEXT_INPUT:
        return f"its InputFormat is {sd['InputFormat']}, not {_TEXT_INPUT}"
    return ""
