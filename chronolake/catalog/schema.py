"""The catalog's tables, in SQLAlchemy Core, portable across SQLite and PostgreSQL.

Every key starts with the tenant. Every versioned row has ``begin_snapshot`` and
``end_snapshot``: it is visible at snapshot S iff ``begin <= S < coalesce(end, infinity)``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# 2: retention_days, cl_tenant_settings; 3: cl_delete_files.part; 4: history lookup indexes,
# cl_tables.transient; 5: cl_tokens, cl_leases (the server)
CATALOG_SCHEMA_VERSION = 5

metadata = MetaData()


catalog_meta = Table(
    "cl_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

tenants = Table(
    "cl_tenants",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("created_time", BigInteger, nullable=False),
)

snapshots = Table(
    "cl_snapshots",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("snapshot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("commit_time", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("schema_snapshot", BigInteger, nullable=False),  # latest DDL snapshot <= this one
    Column("txn_id", String(64), nullable=False),
    Column("query_id", String(64), nullable=True),  # the statement that committed it
    Column("operation", String(32), nullable=False),
    Column("rows_inserted", BigInteger, nullable=False, default=0),
    Column("rows_deleted", BigInteger, nullable=False, default=0),
    Column("bytes_added", BigInteger, nullable=False, default=0),
    Index("cl_snapshots_time", "tenant_id", "commit_time"),
    Index("cl_snapshots_query", "tenant_id", "query_id"),
)

# One row per (table, snapshot that changed it): the table's own version chain.
table_changes = Table(
    "cl_table_changes",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("table_id", BigInteger, primary_key=True, autoincrement=False),
    Column("snapshot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ddl", Boolean, nullable=False),
    Column("operation", String(32), nullable=False),
    Column("rows_added", BigInteger, nullable=False),
    Column("rows_removed", BigInteger, nullable=False),
    Index("cl_table_changes_snapshot", "tenant_id", "snapshot_id", "table_id"),
)

databases = Table(
    "cl_databases",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("database_id", BigInteger, primary_key=True, autoincrement=False),
    Column("begin_snapshot", BigInteger, primary_key=True, autoincrement=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("name", String(255), nullable=False),
    Column("retention_days", Integer, nullable=True),  # own DATA_RETENTION_TIME_IN_DAYS
)

schemas = Table(
    "cl_schemas",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("schema_id", BigInteger, primary_key=True, autoincrement=False),
    Column("begin_snapshot", BigInteger, primary_key=True, autoincrement=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("database_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("retention_days", Integer, nullable=True),  # own DATA_RETENTION_TIME_IN_DAYS
)

tables = Table(
    "cl_tables",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("table_id", BigInteger, primary_key=True, autoincrement=False),
    Column("begin_snapshot", BigInteger, primary_key=True, autoincrement=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("schema_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_snapshot", BigInteger, nullable=False),
    Column("next_column_id", Integer, nullable=False),
    Column("view_sql", Text, nullable=True),
    Column("retention_days", Integer, nullable=True),  # own DATA_RETENTION_TIME_IN_DAYS
    Column("transient", Boolean, nullable=True),  # CREATE TRANSIENT TABLE (NULL: permanent)
)

# Tenant (account) parameters such as DATA_RETENTION_TIME_IN_DAYS, versioned like the
# namespace: a change is a committed snapshot.
tenant_settings = Table(
    "cl_tenant_settings",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("begin_snapshot", BigInteger, primary_key=True, autoincrement=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("value", Text, nullable=False),
)

columns = Table(
    "cl_columns",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("table_id", BigInteger, primary_key=True, autoincrement=False),
    Column("column_id", Integer, primary_key=True, autoincrement=False),
    Column("begin_snapshot", BigInteger, primary_key=True, autoincrement=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("name", String(255), nullable=False),
    Column("type", String(255), nullable=False),
    Column("position", Integer, nullable=False),
    Column("default_sql", Text, nullable=True),
    Column("nullable", Boolean, nullable=False, default=True),
)

# Row ids are handed out from a per-table counter that only grows.
table_row_ids = Table(
    "cl_table_row_ids",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("table_id", BigInteger, primary_key=True, autoincrement=False),
    Column("next_row_id", BigInteger, nullable=False),
)

data_files = Table(
    "cl_data_files",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("file_id", BigInteger, primary_key=True, autoincrement=False),
    Column("table_id", BigInteger, nullable=False),
    Column("begin_snapshot", BigInteger, nullable=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("path", Text, nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("byte_size", BigInteger, nullable=False),
    Column("first_row_id", BigInteger, nullable=False),
    Column("has_row_ids", Boolean, nullable=False),
    Column("query_id", String(64), nullable=True),  # the statement that wrote the file
    Column("cloned_from", BigInteger, nullable=True),  # the file row whose file this re-uses
    Index("cl_data_files_table", "tenant_id", "table_id", "begin_snapshot"),
)

file_column_stats = Table(
    "cl_file_column_stats",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("file_id", BigInteger, primary_key=True, autoincrement=False),
    Column("column_id", Integer, primary_key=True, autoincrement=False),
    Column("min_value", Text, nullable=True),
    Column("max_value", Text, nullable=True),
    Column("null_count", BigInteger, nullable=True),
)

delete_files = Table(
    "cl_delete_files",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("delete_file_id", BigInteger, primary_key=True, autoincrement=False),
    Column("data_file_id", BigInteger, nullable=False),
    Column("table_id", BigInteger, nullable=False),
    Column("begin_snapshot", BigInteger, nullable=False),
    Column("end_snapshot", BigInteger, nullable=True),
    Column("path", Text, nullable=False),
    Column("delete_count", BigInteger, nullable=False),
    Column("byte_size", BigInteger, nullable=False),
    # the part of the (shared) file that is this row's: the ``f`` its positions carry in
    # the file; NULL: the whole file
    Column("part", BigInteger, nullable=True),
    Index("cl_delete_files_table", "tenant_id", "table_id", "begin_snapshot"),
    Index("cl_delete_files_data", "tenant_id", "data_file_id"),
)

statements = Table(
    "cl_statements",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("query_id", String(64), primary_key=True),
    Column("session_id", String(64), nullable=False),
    Column("user_name", String(255), nullable=False),
    Column("query_text", Text, nullable=False),
    Column("query_type", String(64), nullable=False),
    Column("database_name", String(255), nullable=True),
    Column("schema_name", String(255), nullable=True),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=False),
    Column("execution_status", String(32), nullable=False),
    Column("error_message", Text, nullable=True),
    Column("txn_id", String(64), nullable=True),
    Column("read_snapshot", BigInteger, nullable=True),
    Column("produced_snapshot", BigInteger, nullable=True),
    Column("visible_snapshot", BigInteger, nullable=False),  # latest committed at its end
    Column("rows_produced", BigInteger, nullable=False, default=0),
    Column("rows_inserted", BigInteger, nullable=False, default=0),
    Column("rows_updated", BigInteger, nullable=False, default=0),
    Column("rows_deleted", BigInteger, nullable=False, default=0),
    Index("cl_statements_txn", "tenant_id", "txn_id"),
    Index("cl_statements_time", "tenant_id", "start_time"),
    Index("cl_statements_snapshot", "tenant_id", "produced_snapshot"),
)

# Data lineage: per statement, the tables it read (at which snapshot) and the tables it changed.
# Written in the same catalog transaction as the statement's log row (or its commit).
access = Table(
    "cl_access",
    metadata,
    Column("tenant_id", String(128), nullable=False),
    Column("query_id", String(64), nullable=False),
    Column("object_kind", String(32), nullable=False),  # 'TABLE'
    Column("object_id", BigInteger, nullable=False),
    Column("object_name", String(800), nullable=False),  # DB.SCHEMA.NAME when accessed
    Column("access", String(8), nullable=False),  # 'READ' | 'WRITE'
    Column("snapshot_id", BigInteger, nullable=True),  # read at; for writes the one produced
    Index("cl_access_query", "tenant_id", "query_id"),
    Index("cl_access_object", "tenant_id", "object_id"),
)

# One row per maintenance run (automatic or `chronolake maintain`): what it did, and its cost.
maintenance_runs = Table(
    "cl_maintenance_runs",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("run_id", String(64), primary_key=True),
    Column("started_time", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("seconds", Float, nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("bytes_reclaimed", BigInteger, nullable=False),
    Column("summary", Text, nullable=False),  # JSON: what each step did
    Index("cl_maintenance_runs_time", "tenant_id", "started_time"),
)

# Expiry marks (maintenance/expire.py): a path (data or delete file) that only snapshots out
# of every retention could still reach, since ``expired_time``; cleanup deletes the file after
# a grace period and sets ``deleted_time``. Created by ``create_all`` on older catalogs too.
expired_files = Table(
    "cl_expired_files",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("kind", String(8), nullable=False),  # 'data' | 'delete'
    Column("byte_size", BigInteger, nullable=False),
    Column("expired_time", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("deleted_time", BigInteger, nullable=True),  # set once cleanup removed the file
)

# The server's access tokens (chronolake/server/tokens.py): only a hash of the secret is kept.
# A token belongs to one tenant and one user and carries one role; the tenant a request works
# on comes from its token alone.
tokens = Table(
    "cl_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),  # public id (shown in lists, revocable)
    Column("tenant_id", String(128), nullable=False),
    Column("user_name", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # 'reader' | 'writer' | 'admin'
    Column("secret_hash", String(128), nullable=False),  # sha256 hex of the secret
    Column("created_time", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("expires_time", BigInteger, nullable=True),
    Column("revoked_time", BigInteger, nullable=True),
    Column("comment", Text, nullable=True),
    Index("cl_tokens_tenant", "tenant_id", "user_name"),
)

# Leases: one holder at a time for a named job (a tenant's background maintenance), across
# every server process sharing the catalog. A lease past ``expires_time`` may be taken over.
leases = Table(
    "cl_leases",
    metadata,
    Column("tenant_id", String(128), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_time", BigInteger, nullable=False),  # microseconds since the epoch, UTC
)
