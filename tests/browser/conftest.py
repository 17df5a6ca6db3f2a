import pytest

from tests.stack import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One running studio (web, worker, stand-in at 0.3 s per request) for every browser test
    that needs nothing special; modules that need another latency, limit or database define
    their own `stack`."""
    with running_stack(
        "embedded", tmp_path_factory.mktemp("browser"), standin_latency=0.3
    ) as running:
        yield running
