"""Binding: names to the tenant's catalog, AT/BEFORE/CHANGES to snapshots, the sandbox."""
