"""rethink's tests; each folder mirrors a package of rethink (see conftest.py)."""
