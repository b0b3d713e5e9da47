"""Fixtures of the unit tests: the throwaway PostgreSQL server is defined here once, so that the
modules that use it share one server per session instead of each starting its own."""

from tests.unit.postgres import pg_server, pg_url  # noqa: F401 (fixtures)
