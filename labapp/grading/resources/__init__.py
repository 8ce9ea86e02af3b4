"""Resource listers for the live panel of a lab page.

`list_resources(kinds, client_factory)` -> [{kind, title, columns, rows, error}], one table per kind,
in the order asked. Each lister is cheap (a handful of API calls) and read-only; a failing lister
gives its table an `error` instead of breaking the panel.

Listers live in one module per service in this package (iam.py, s3.py, ...); every module here is
imported at start-up, so adding a service is adding a file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

# At most this many items are described in detail (per-item calls) per table.
MAX_ITEMS = 25


class Lister:
    def __init__(self, kind, title, columns, func):
        self.kind, self.title, self.columns, self.func = kind, title, columns, func


LISTERS: dict[str, Lister] = {}


def lister(kind: str, title: str, columns: list[str]):
    def deco(func):
        LISTERS[kind] = Lister(kind, title, columns, func)
        return func

    return deco


def join(items) -> str:
    return ", ".join(items) or "—"


def list_resources(kinds: list[str], client_factory: Callable[[str], object]) -> list[dict]:
    clients: dict[str, object] = {}

    def client(service):
        if service not in clients:
            clients[service] = client_factory(service)
        return clients[service]

    tables = []
    for kind in kinds:
        item = LISTERS.get(kind)
        if item is None:
            tables.append({"kind": kind, "title": kind, "columns": [], "rows": [], "error": "unknown resource kind"})
            continue
        table = {"kind": kind, "title": item.title, "columns": item.columns, "rows": [], "error": None}
        try:
            table["rows"] = item.func(client)
        except (ClientError, BotoCoreError) as err:
            log.warning("resource lister %s failed: %s", kind, err)
            table["error"] = f"could not list {item.title.lower()}: {err}"
        tables.append(table)
    return tables


def _import_lister_modules() -> None:
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_lister_modules()
