"""Who signed a request, as the gateway decided it: the one trusted header between gateway and emulator.

The gateway verifies every signature, so it alone knows whether a request came from the lab session's own
key (the sandbox administrator), from the platform (setup, graders), from a key moto issued inside the
sandbox (IAM user access keys, STS credentials), or from nobody (an unsigned S3 read). It always sets
`x-lab-caller` (dropping every `x-lab-*` header a client sent), with the client address it saw and the
region of the signature, which the emulator needs for aws:SourceIp and aws:RequestedRegion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

HEADER = "x-lab-caller"
ENVIRON_KEY = "HTTP_X_LAB_CALLER"

SESSION = "session"  # the lab session's own key: the sandbox administrator
INTERNAL = "internal"  # setup and platform calls: never evaluated
MOTO_KEY = "moto-key"  # a key moto issued in the sandbox: every call evaluated
ANONYMOUS = "anonymous"  # an unsigned S3 read (decided by s3_public_access)
KINDS = (SESSION, INTERNAL, MOTO_KEY, ANONYMOUS)


@dataclass(frozen=True)
class CallerInfo:
    kind: str
    access_key_id: str = ""
    source_ip: str = ""
    region: str = ""
    secure_transport: bool = False
    # The other accounts of the caller's lab session: the account guard lets an operation that needs one
    # of them (AssumeRole into a partner account's role) read it, and no other account.
    sibling_accounts: tuple[str, ...] = ()

    def header_value(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "key": self.access_key_id,
                "ip": self.source_ip,
                "region": self.region,
                "tls": self.secure_transport,
                "accounts": list(self.sibling_accounts),
            },
            separators=(",", ":"),
        )


def parse(value: str | None) -> CallerInfo | None:
    """The gateway's header, or None when missing or unreadable (the emulator then decides without it)."""
    if not value:
        return None
    try:
        data = json.loads(value)
        kind = data["kind"]
    except (ValueError, KeyError, TypeError):
        return None
    if kind not in KINDS:
        return None
    return CallerInfo(
        kind,
        str(data.get("key") or ""),
        str(data.get("ip") or ""),
        str(data.get("region") or ""),
        bool(data.get("tls")),
        tuple(str(a) for a in data.get("accounts") or () if isinstance(a, str) and len(a) == 12 and a.isdigit()),
    )
