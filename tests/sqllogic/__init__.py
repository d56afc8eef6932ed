"""sqllogictest-style runner for chronolake's SQL scripts (see README.md)."""
