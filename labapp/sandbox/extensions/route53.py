"""Route 53: domain names are case-insensitive, as on AWS.

AWS stores the letters of hosted zone and record names in lower case whatever case they were given in
("Amazon Route 53 stores alphabetic characters as lowercase letters", DNS domain name format), so
`App.Example.com` and `app.example.com` are the same record. moto 5.2.5 compares names byte for byte:
a record whose zone part is written in another case is refused (InvalidChangeBatch "not permitted in
zone"), an upper-case record name is stored beside its lower-case twin instead of replacing it, a zone
created as `Shop.Example` is not found by `list-hosted-zones-by-name --dns-name shop.example`, and a
DELETE must repeat the exact case. Names are lower-cased where they enter the backend."""

from __future__ import annotations

import functools


def lower(name):
    return name.lower() if isinstance(name, str) else name


def _wrap(cls, method: str, adapt) -> None:
    original = getattr(cls, method)
    if getattr(original, "_lab_patched", False):
        return

    @functools.wraps(original)
    def patched(self, *args, **kwargs):
        args, kwargs = adapt(args, kwargs)
        return original(self, *args, **kwargs)

    patched._lab_patched = True
    setattr(cls, method, patched)


def _first_arg_lower(key: str):
    def adapt(args, kwargs):
        if args:
            args = (lower(args[0]), *args[1:])
        elif key in kwargs:
            kwargs[key] = lower(kwargs[key])
        return args, kwargs
    return adapt


def _changes_lower(args, kwargs):
    changes = args[1] if len(args) > 1 else kwargs.get("change_list") or []
    for change in changes:
        record = change.get("ResourceRecordSet") or {}
        if "Name" in record:
            record["Name"] = lower(record["Name"])
    return args, kwargs


def _start_name_lower(args, kwargs):
    if len(args) >= 3:
        args = (*args[:2], lower(args[2]), *args[3:])
    elif "start_name" in kwargs:
        kwargs["start_name"] = lower(kwargs["start_name"])
    return args, kwargs


def apply() -> None:
    from moto.route53.models import Route53Backend

    _wrap(Route53Backend, "create_hosted_zone", _first_arg_lower("name"))
    _wrap(Route53Backend, "list_hosted_zones_by_name", _first_arg_lower("dnsname"))
    _wrap(Route53Backend, "get_hosted_zone_by_name", _first_arg_lower("name"))
    _wrap(Route53Backend, "change_resource_record_sets", _changes_lower)
    _wrap(Route53Backend, "list_resource_record_sets", _start_name_lower)
