"""The server: a lake behind HTTP for many tenants (docs/server.md)."""
