"""The test harness: clocks, settings, local servers and browsers that several test modules
share. Fixtures live in the conftest.py files; rows come from tests/factories."""
