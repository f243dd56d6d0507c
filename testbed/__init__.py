"""Real servers on free loopback ports (Rasa, action server, PostgreSQL, Redis, nginx), started and stopped
around a block: shared by the tests (tests/) and the benchmark (bench/), which must not import from tests/."""
