"""S3 event notification filter rule names, case-insensitive as on AWS.

AWS accepts `FilterRules` names in any letter case (`prefix`, `Prefix`, `PREFIX`; its own
GetBucketNotificationConfiguration even answers with `Prefix`/`Suffix`). moto asserts that the name is
exactly `prefix` or `suffix`, so a capitalised name ended in an AssertionError: a 500 InternalError on
PutBucketNotificationConfiguration, the call the s3-event-notifications lab asks for.

Before moto reads the body, the names are lower-cased (the form moto stores and matches keys with);
a name that is neither prefix nor suffix in any case is refused with AWS's 400 InvalidArgument.
(Stored names are lower case, so GET answers `prefix` where AWS says `Prefix`.)
"""

from __future__ import annotations

VALID_NAMES = ("prefix", "suffix")


def _listify(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def normalise_filter_rule_names(body: bytes | str) -> bytes | str:
    """The notification configuration XML with every FilterRule Name lower-cased; the body unchanged when
    there is nothing to change (or it is not XML moto would accept anyway)."""
    import xmltodict
    from moto.s3.exceptions import InvalidFilterRuleName

    try:
        parsed = xmltodict.parse(body)
    except Exception:  # noqa: BLE001 - malformed XML: moto answers MalformedXML itself
        return body
    config = parsed.get("NotificationConfiguration")
    if not isinstance(config, dict):
        return body
    changed = False
    for field, entries in config.items():
        if not field.endswith("Configuration"):
            continue
        for entry in _listify(entries):
            s3key = ((entry or {}).get("Filter") or {}).get("S3Key") if isinstance(entry, dict) else None
            if not isinstance(s3key, dict):
                continue
            for rule in _listify(s3key.get("FilterRule")):
                name = rule.get("Name") if isinstance(rule, dict) else None
                if not isinstance(name, str):
                    continue
                if name.strip().lower() not in VALID_NAMES:
                    raise InvalidFilterRuleName(name)
                if name != name.strip().lower():
                    rule["Name"] = name.strip().lower()
                    changed = True
    if not changed:
        return body
    text = xmltodict.unparse(parsed)
    return text.encode("utf-8") if isinstance(body, bytes) else text


def apply() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._notification_config_from_body
    if getattr(original, "_lab_filter_names", False):
        return

    def _notification_config_from_body(self):
        self.body = normalise_filter_rule_names(self.body)
        return original(self)

    _notification_config_from_body._lab_filter_names = True
    S3Response._notification_config_from_body = _notification_config_from_body
