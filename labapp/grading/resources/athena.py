"""Live-panel listers for Athena and the Glue catalog behind it."""

from . import MAX_ITEMS, lister


@lister("athena.workgroups", "Athena workgroups", ["Name", "State", "Result location"])
def athena_workgroups(client):
    athena = client("athena")
    rows = []
    for wg in athena.list_work_groups().get("WorkGroups", [])[:MAX_ITEMS]:
        conf = athena.get_work_group(WorkGroup=wg["Name"])["WorkGroup"].get("Configuration", {})
        rows.append([wg["Name"], wg.get("State", ""), (conf.get("ResultConfiguration") or {}).get("OutputLocation", "—")])
    return rows


@lister("athena.queries", "Athena query executions", ["Id", "Workgroup", "State", "Query"])
def athena_queries(client):
    athena = client("athena")
    rows = []
    for wg in athena.list_work_groups().get("WorkGroups", [])[:5]:
        for qid in athena.list_query_executions(WorkGroup=wg["Name"]).get("QueryExecutionIds", [])[:10]:
            q = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            rows.append([qid[:8] + "…", wg["Name"], q.get("Status", {}).get("State", ""), q.get("Query", "")[:60]])
    return rows


@lister("glue.tables", "Glue data catalog tables", ["Database", "Table", "Location", "Columns"])
def glue_tables(client):
    glue = client("glue")
    rows = []
    for db in glue.get_databases().get("DatabaseList", [])[:MAX_ITEMS]:
        for t in glue.get_tables(DatabaseName=db["Name"]).get("TableList", [])[:MAX_ITEMS]:
            sd = t.get("StorageDescriptor", {})
            rows.append([db["Name"], t["Name"], sd.get("Location", "—"), str(len(sd.get("Columns", [])))])
    return rows
