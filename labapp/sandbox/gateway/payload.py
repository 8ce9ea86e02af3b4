"""The request body, bound to its signature and decoded exactly once.

A SigV4 signature covers the payload through `X-Amz-Content-Sha256` (or, without it, the body's own hash).
What that value may be decides how the body is read:

- a hex digest: it must be the SHA-256 of the body;
- `UNSIGNED-PAYLOAD`: S3 only, as on AWS;
- `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: S3 aws-chunked, every chunk signed, each signature chained to the
  previous one from the request's own signature (AWS docs: "Signature calculations for the Authorization
  header: Transferring payload in multiple chunks");
- `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: S3 aws-chunked without chunk signatures, its checksum in a trailer,
  which must match the decoded data (what current SDKs send over HTTPS).

After that, a `Content-Encoding: gzip` body is decompressed (within the body limit: no gzip bombs) for the
services whose emulator code decompresses it; for S3 object data the encoding is metadata and stays.
The result is the body the emulator will be given, so the gateway's checks run on exactly that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import zlib
from dataclasses import dataclass

from .errors import Refusal

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_SIGNED_CHUNK_HEAD = re.compile(rb"([0-9a-fA-F]{1,15});chunk-signature=([0-9a-f]{64})\r\n")
_UNSIGNED_CHUNK_HEAD = re.compile(rb"([0-9a-fA-F]{1,15})\r\n")
_TRAILER_LINE = re.compile(rb"(x-amz-checksum-[a-z0-9]+):([A-Za-z0-9+/=]{1,200})\r?\n")


def bad_payload(message: str, code: str = "InvalidRequest") -> Refusal:
    return Refusal(400, code, message)


@dataclass(frozen=True)
class SigningContext:
    """What chunk signatures chain from: the request's signature, its date, scope and derived key."""

    seed_signature: str
    amz_date: str
    scope: str
    key: bytes


def payload_hash_for_signing(declared: str | None, service: str, presigned: bool, body: bytes) -> str:
    """The payload hash the canonical request must use, after checking what the request declared.

    `declared` is the X-Amz-Content-Sha256 value when that header is signed (None when absent or unsigned:
    an unsigned declaration could be anything, so the body's real hash is used instead)."""
    if declared is None:
        if presigned and service == "s3":
            return UNSIGNED
        return hashlib.sha256(body).hexdigest()
    if _HEX_DIGEST.fullmatch(declared):
        if not hmac.compare_digest(declared, hashlib.sha256(body).hexdigest()):
            raise bad_payload(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                "XAmzContentSHA256Mismatch",
            )
        return declared
    if declared in (UNSIGNED, STREAMING_SIGNED, STREAMING_UNSIGNED_TRAILER):
        if service != "s3":
            raise bad_payload(f"x-amz-content-sha256 {declared} is only accepted by S3; sign the payload's SHA-256.")
        return declared
    raise bad_payload(
        f"x-amz-content-sha256 {declared[:60]!r} is not supported here: use the payload's SHA-256, "
        f"{UNSIGNED}, {STREAMING_SIGNED} or {STREAMING_UNSIGNED_TRAILER}."
    )


def decode_aws_chunked(
    mode: str, body: bytes, decoded_length: str | None, context: SigningContext | None, trailer_names: str
) -> tuple[bytes, dict[str, str]]:
    """(data, trailing checksum headers) of an aws-chunked body, every signature or checksum verified."""
    if decoded_length is None or not decoded_length.isdigit():
        raise bad_payload("An aws-chunked body needs x-amz-decoded-content-length.", "MissingContentLength")
    signed = mode == STREAMING_SIGNED
    head_pattern = _SIGNED_CHUNK_HEAD if signed else _UNSIGNED_CHUNK_HEAD
    previous = context.seed_signature if signed else ""
    parts, position = [], 0
    while True:
        match = head_pattern.match(body, position)
        if match is None:
            raise bad_payload("The aws-chunked body is malformed (chunk header).", "IncompleteBody")
        size = int(match.group(1), 16)
        start = match.end()
        data = body[start : start + size]
        if len(data) != size:
            raise bad_payload("The aws-chunked body is shorter than its chunk sizes.", "IncompleteBody")
        if signed:
            string_to_sign = "\n".join(
                ("AWS4-HMAC-SHA256-PAYLOAD", context.amz_date, context.scope, previous, EMPTY_SHA256,
                 hashlib.sha256(data).hexdigest())
            )
            expected = hmac.new(context.key, string_to_sign.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, match.group(2).decode()):
                raise Refusal(403, "SignatureDoesNotMatch", "A chunk signature of the aws-chunked body does not match.")
            previous = expected
        if size == 0:
            position = start
            break
        parts.append(data)
        if body[start + size : start + size + 2] != b"\r\n":
            raise bad_payload("The aws-chunked body is malformed (chunk end).", "IncompleteBody")
        position = start + size + 2
    trailers = _read_trailers(body, position, signed)
    data = b"".join(parts)
    if len(data) != int(decoded_length):
        raise bad_payload("x-amz-decoded-content-length does not match the aws-chunked body.", "IncompleteBody")
    if not signed:
        expected_names = {name.strip().lower() for name in trailer_names.split(",") if name.strip()}
        if set(trailers) != expected_names or not trailers:
            raise bad_payload("The aws-chunked trailer does not carry the checksum x-amz-trailer names.")
    for name, value in trailers.items():
        check_checksum(name, value, data)
    return data, trailers


def _read_trailers(body: bytes, position: int, signed: bool) -> dict[str, str]:
    trailers: dict[str, str] = {}
    if signed:
        if body[position:] != b"\r\n":
            raise bad_payload(
                "Signed aws-chunked bodies with trailers are not supported here; use "
                f"{STREAMING_SIGNED} without a trailer or {STREAMING_UNSIGNED_TRAILER}.",
            )
        return trailers
    while True:
        if body[position:] in (b"\r\n", b"\n"):
            return trailers
        match = _TRAILER_LINE.match(body, position)
        if match is None or len(trailers) >= 4:
            raise bad_payload("The aws-chunked trailer is malformed.", "IncompleteBody")
        name = match.group(1).decode()
        if name in trailers:
            raise bad_payload(f"The aws-chunked trailer names {name} twice.")
        trailers[name] = match.group(2).decode()
        position = match.end()


def _crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


_CHECKSUMS = {
    "x-amz-checksum-crc32": _crc32,
    "x-amz-checksum-sha1": lambda data: hashlib.sha1(data).digest(),
    "x-amz-checksum-sha256": lambda data: hashlib.sha256(data).digest(),
}


def check_checksum(name: str, value: str, data: bytes) -> None:
    compute = _CHECKSUMS.get(name)
    if compute is None:
        raise bad_payload(f"{name} is not supported here; use CRC32, SHA1 or SHA256 checksums.")
    if not hmac.compare_digest(base64.b64encode(compute(data)).decode(), value):
        raise bad_payload(f"Value for {name} header is invalid.", "BadDigest")


def gunzip(body: bytes, limit: int) -> bytes:
    """Every gzip member of `body`, at most `limit` bytes in all (413 beyond: a gzip bomb is refused
    without inflating it)."""
    out, rest = [], body
    total = 0
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(rest, limit + 1 - total)
        except zlib.error:
            raise bad_payload("The gzip request body is corrupt.") from None
        total += len(chunk)
        if total > limit or inflater.unconsumed_tail:
            raise Refusal(413, "EntityTooLarge", f"The decompressed body exceeds {limit} bytes.")
        if not inflater.eof:
            raise bad_payload("The gzip request body is truncated.")
        out.append(chunk)
        rest = inflater.unused_data
    return b"".join(out)


def content_codings(header: str) -> list[str]:
    return [token.strip().lower() for token in header.split(",") if token.strip()]
