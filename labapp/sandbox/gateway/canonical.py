"""One parse of a request, and the canonical form that is both checked and forwarded.

The cross-account rules are only as good as the parse they run on: wherever the gateway read a request
one way and moto another (a parameter given twice, a Content-Type in other letter case, a body in a
different encoding or framing), a learner could show the gateway one value and have the emulator act
on another. So the gateway parses each request once, in the protocol its service speaks, refuses what
is ambiguous (duplicate parameters or JSON keys, XML with a DTD, form bodies where no form belongs), and
forwards the form it parsed, re-encoded: a fresh form body or JSON document, a lower-case Content-Type,
no Content-Encoding, a matching Content-Length. moto then has nothing else to read.

How moto reads a request (moto/core/responses.py BaseResponse.setup_class, moto/core/request.py):
werkzeug parses a form body when the lower-cased mimetype is urlencoded or multipart; its
`querystring` is that form, else the URL query, else the body parsed as a query string, else the
headers; the protocol parsers read `request.values` (URL query, then form) and the JSON body.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode
from xml.parsers import expat

from .errors import Refusal

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
CBOR = "application/cbor"
JSON_TYPES = ("application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/json")
FORM_PROTOCOLS = ("query", "ec2")
MAX_JSON_DEPTH = 64
# Values in one structured body (JSON members and elements, form pairs, XML elements). Every value becomes
# a Python object the cross-account rules walk, so a 16 MiB body of `0,0,0,...` (16 KB gzipped) cost the
# gateway a gigabyte and seconds of CPU; real API requests stay far below this.
MAX_VALUES = 100_000


def refuse(message: str, status: int = 400, code: str = "InvalidRequest") -> Refusal:
    return Refusal(status, code, message)


def check_value_count(body: bytes | str, separators: tuple[str, ...], what: str) -> None:
    """Refuse a body with more than MAX_VALUES values, counted on the raw text before any parsing: each
    value is set off by one of `separators` (a count in C, cheap whatever the size)."""
    raw = body.encode() if isinstance(body, str) else body
    count = sum(raw.count(separator.encode()) for separator in separators)
    if count > MAX_VALUES:
        raise refuse(f"The {what} has more than {MAX_VALUES} values; this lab does not take such requests.", 413,
                     "RequestEntityTooLarge")


@dataclass
class Parsed:
    """A body as the emulator will receive it, and the strings in it that the rules must see."""

    body: bytes
    content_type: str | None  # None: keep the request's own (S3 object data, where it is metadata)
    strings: list[tuple[str, str]] = field(default_factory=list)
    form_pairs: list[tuple[str, str]] | None = None
    json_document: object = None


def mimetype(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


# --- query strings and forms ---------------------------------------------------------------------


def parse_pairs(text: str, where: str) -> list[tuple[str, str]]:
    """`a=1&b=2` strictly: valid UTF-8 after percent-decoding, and no name twice (moto's readers
    disagree on which of two values wins, so two values are never forwarded)."""
    check_value_count(text, ("&", ";"), where)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise refuse(f"The {where} is not valid UTF-8 once percent-decoded.") from None
    seen = set()
    for name, _ in pairs:
        if name in seen:
            raise refuse(f"The parameter {name!r} appears twice in the {where}; send each parameter once.")
        seen.add(name)
    return pairs


def parse_query(raw_query: str) -> list[tuple[str, str]]:
    return parse_pairs(raw_query, "query string")


def encode_form(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs, quote_via=quote, safe="-_.~").encode("ascii")


# --- JSON ---------------------------------------------------------------------------------------


def _no_duplicate_keys(pairs):
    document = {}
    for key, value in pairs:
        if key in document:
            raise refuse(f"The JSON body names {key!r} twice in one object; send each member once.", code="SerializationException")
        document[key] = value
    return document


def _no_constants(name):
    raise refuse(f"The JSON body contains {name}, which is not JSON.", code="SerializationException")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 would be forwarded as Infinity, which is not JSON
        raise refuse(f"The JSON number {text[:40]} is out of range.", code="SerializationException")
    return value


def loads_strict(text: bytes | str):
    check_value_count(text, (",", ":"), "JSON body")
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants, parse_float=_finite_float
        )
    except RecursionError:
        raise refuse("The JSON body is nested too deeply.", code="SerializationException") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, Refusal):
            raise
        raise refuse("The request body is not valid JSON.", code="SerializationException") from None


# Characters escaped in the forwarded JSON so that moto's fallback reading of a body as a query string
# (setup_class: parse_qsl(body) when there is no form and no URL query) finds no parameter in it.
_QUERY_SYNTAX = str.maketrans({"&": "\\u0026", "=": "\\u003d", "%": "\\u0025", "+": "\\u002b", ";": "\\u003b"})


def dumps_canonical(document) -> bytes:
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).translate(_QUERY_SYNTAX).encode("ascii")


def strings_in(document):
    """(key, string) for every string in a parsed JSON document, at any depth."""
    stack = [("", document)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, str):
            yield key, node
        elif isinstance(node, dict):
            stack.extend(node.items())
            stack.extend(("", name) for name in node)  # member names reach moto too
        elif isinstance(node, list):
            stack.extend((key, item) for item in node)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield key, str(node)


# --- XML ----------------------------------------------------------------------------------------


def xml_strings(body: bytes) -> list[tuple[str, str]]:
    """Every text and attribute of an XML body; a DTD, an entity declaration or bad XML is refused
    (moto's xmltodict uses the same expat)."""
    check_value_count(body, ("<",), "XML body")
    strings: list[tuple[str, str]] = []
    stack: list[list] = []

    def forbid(*_args):
        raise refuse("XML bodies may not contain a DOCTYPE or entity declarations.", code="MalformedXML")

    def start(name, attributes):
        stack.append([name.rsplit("}", 1)[-1], []])
        strings.extend((attr, value) for attr, value in attributes.items())

    def text(data):
        if stack:
            stack[-1][1].append(data)

    def end(_name):
        tag, parts = stack.pop()
        value = "".join(parts).strip()
        if value:
            strings.append((tag, value))

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.UnparsedEntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError:
        raise refuse("The XML you provided was not well-formed.", code="MalformedXML") from None
    return strings


def fallback_query_strings(body: bytes) -> list[tuple[str, str]]:
    """What moto's setup_class reads from a body it parses as a query string (only when no form and no
    URL query): checked too, whatever the body's protocol, so text hidden there is seen."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return []


# --- the whole body, per protocol -----------------------------------------------------------------


def parse_form_body(body: bytes, query_pairs) -> Parsed:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("A form body must be UTF-8 (SDKs percent-encode it).") from None
    pairs = parse_pairs(text, "form body")
    overlap = {name for name, _ in pairs} & {name for name, _ in query_pairs}
    if overlap:
        raise refuse(f"The parameter {sorted(overlap)[0]!r} is in both the query string and the form body.")
    return Parsed(encode_form(pairs), f"{FORM}; charset=utf-8", list(pairs), form_pairs=pairs)


def parse_json_body(body: bytes, content_type: str) -> Parsed:
    if not body:
        return Parsed(b"", content_type)
    document = loads_strict(body)
    return Parsed(dumps_canonical(document), content_type, list(strings_in(document)), json_document=document)


def parse_opaque_or_sniffed(body: bytes) -> Parsed:
    """A body with no declared structure (S3 policy, rest payloads): checked as JSON or XML when it is
    that, else as text; forwarded unchanged."""
    start = body.lstrip()[:1]
    if start in (b"{", b"["):
        document = loads_strict(body)
        strings = list(strings_in(document))
    elif start == b"<":
        strings = xml_strings(body)
    else:
        strings = [("", body.decode("utf-8", "replace"))]
    return Parsed(body, None, strings + fallback_query_strings(body))


def parse_xml_body(body: bytes) -> Parsed:
    if not body:
        return Parsed(b"", None)
    return Parsed(body, None, xml_strings(body) + fallback_query_strings(body))
