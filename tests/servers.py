"""The test servers live in testbed/servers.py (the benchmark uses them too): `from tests import servers`
keeps working for the tests."""

from testbed.servers import *  # noqa: F403
