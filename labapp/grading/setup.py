"""Runs a lab's setup: the API calls that prepare a fresh sandbox before the learner starts.

Each step is `{call: "<service>.<boto3 method>", args: {...}}`; args are templated with the session's
parameters (strings anywhere inside nested dicts and lists). Steps run in order; the first failure
raises SetupError naming the step, so provisioning can mark the session failed. A step with
`account: <name>` runs in that extra account of the session (`accounts:` in the lab file), as its
administrator: `client_factory(service, account=name)`.
"""

from __future__ import annotations

from collections.abc import Callable

from .templating import render_data


class SetupError(RuntimeError):
    pass


def run_setup(definition: dict, params: dict, client_factory: Callable[[str], object]) -> list[dict]:
    """Run every setup step; returns the boto3 responses (ResponseMetadata dropped), in order."""
    clients: dict[str, object] = {}
    results = []
    for number, step in enumerate(definition.get("setup") or [], start=1):
        service, method = step["call"].split(".", 1)
        account = step.get("account")
        if (service, account) not in clients:
            clients[service, account] = client_factory(service, account=account) if account else client_factory(service)
        args = render_data(step.get("args") or {}, params)
        try:
            response = getattr(clients[service, account], method)(**args)
        except Exception as err:
            raise SetupError(f"setup step {number} ({step['call']}) failed: {err}") from err
        if isinstance(response, dict):
            response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        results.append(response)
    return results
