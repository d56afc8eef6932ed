"""Fixtures shared across folders live in their own modules; this only registers them."""

pytest_plugins = ("services.fixtures", "lake_forms")
