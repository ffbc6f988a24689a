"""A real Request Tracker 5 for the integration tests: installed when missing (as root), started once per session.

Without RT and without root the tests skip and say why; with SHIFTBOARD_REQUIRE_RT=1 (CI) that skip is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.rt_server import RTInstance, RTUnavailable, install

REQUIRE_ENV = "SHIFTBOARD_REQUIRE_RT"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTInstance]:
    """A private RT 5 on a free 127.0.0.1 port (SQLite, bcrypt cost 4, quiet scrips), with a token for root."""
    instance = RTInstance(tmp_path_factory.mktemp("rt"), workers=3)
    try:
        install()
        instance.start()
    except (RTUnavailable, RuntimeError, TimeoutError) as error:
        # RuntimeError/TimeoutError: installed but it would not start here (e.g. not root: RT's cache folders).
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but Request Tracker is unavailable: {error}", pytrace=False)
        pytest.skip(f"Request Tracker is unavailable: {error}")
    try:
        instance.create_token()
        yield instance
    finally:
        instance.stop()
