"""Hostile `.arch` files (docs/security.md) and the harness that runs them; the tests are
tests/test_hostile_*.py."""
