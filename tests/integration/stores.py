"""PostgreSQL, Redis and nginx for the tests live in testbed/stores.py (the benchmark uses them too)."""

from testbed.stores import *  # noqa: F403
