import pytest


@pytest.fixture
def runner_reaches_gateway(sandbox_stack, settings):
    """The runner's sandboxes reach the gateway through a relay in this process, which connects to
    LAB_RUNNER_GATEWAY_HOST/PORT: point it at the test stack's gateway."""
    settings.LAB_RUNNER_GATEWAY_HOST = "127.0.0.1"
    settings.LAB_RUNNER_GATEWAY_PORT = sandbox_stack.port
    return sandbox_stack
