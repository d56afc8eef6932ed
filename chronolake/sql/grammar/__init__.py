"""Grammar: Snowflake SQL (plus chronolake's own statements) parsed into sqlglot trees."""
