"""Tenants and tokens (chronolake/server/tokens.py) and roles, on both lake forms; the
``chronolake admin`` commands."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from lake_forms import LakeSpec

import chronolake
from chronolake.cli.main import cli
from chronolake.server import tokens


def test_a_token_names_its_tenant_user_and_role(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        tokens.create_tenant(lake, "acme")
        token_id, secret = tokens.create_token(lake, "acme", "alice", "reader", comment="ci")
        who = tokens.authenticate(lake, secret)
        assert (who.tenant, who.user, who.role, who.token_id) == (
            "acme",
            "alice",
            "reader",
            token_id,
        )
        [row] = tokens.list_tokens(lake, "acme")
        assert row["token_id"] == token_id and row["comment"] == "ci"
        assert secret not in repr(row) and secret.split(".")[1] not in repr(row)
        # only a hash is stored
        stored = lake_spec.catalog_rows("SELECT secret_hash FROM cl_tokens")
        assert stored and all(secret not in str(r) for r in stored)


def test_revoked_expired_unknown_and_malformed_tokens_are_refused(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        tokens.create_tenant(lake, "acme")
        revoked_id, revoked = tokens.create_token(lake, "acme", "a", "writer")
        tokens.revoke_token(lake, revoked_id)
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        _, expired = tokens.create_token(lake, "acme", "a", "writer", expires_at=past)
        _, good = tokens.create_token(lake, "acme", "a", "writer", expires_in_s=3600)
        forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        cases = {
            revoked: "revoked",
            expired: "expired",
            forged: "Unknown token",
            "tok_0123456789abcdef." + "x" * 43: "Unknown token",
            "": "Malformed",
            "Bearer abc": "Malformed",
            good + "\n": "Malformed",
        }
        for secret, message in cases.items():
            with pytest.raises(chronolake.Unauthenticated, match=message) as info:
                tokens.authenticate(lake, secret)
            if secret:
                assert secret.strip() not in str(info.value)
        assert tokens.authenticate(lake, good).user == "a"


def test_bad_token_requests_change_nothing(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        with pytest.raises(chronolake.NotFound, match="create-tenant"):
            tokens.create_token(lake, "nobody", "a", "reader")
        tokens.create_tenant(lake, "acme")
        for user, role, error in [
            ("a b", "reader", "user name"),
            ("", "reader", "user name"),
            ("a", "root", "role must be one of"),
        ]:
            with pytest.raises(chronolake.InterfaceError, match=error):
                tokens.create_token(lake, "acme", user, role)
        with pytest.raises(chronolake.InterfaceError, match="positive"):
            tokens.create_token(lake, "acme", "a", "reader", expires_in_s=0)
        with pytest.raises(chronolake.ProgrammingError, match="Invalid tenant name"):
            tokens.create_tenant(lake, "../etc")
        assert tokens.list_tokens(lake) == []
        assert tokens.tenants(lake) == ["acme"]
        with pytest.raises(chronolake.NotFound, match="tok_nope"):
            tokens.revoke_token(lake, "tok_nope")
        _, secret = tokens.create_token(lake, "acme", "a", "reader")
        token_id = secret.split(".")[0]
        with pytest.raises(chronolake.NotFound):  # revoking needs the right tenant, if named
            tokens.revoke_token(lake, token_id, tenant="globex")
        assert tokens.authenticate(lake, secret).tenant == "acme"


def test_roles_limit_statements_and_refusals_are_recorded(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        writer = lake.connect("acme", user="w", role="writer")
        writer.execute("CREATE TABLE t (id INT)")
        writer.execute("INSERT INTO t VALUES (1)")
        reader = lake.connect("acme", user="r", role="reader")
        assert reader.execute("SELECT id FROM t AT(VERSION => 2)").fetchall() == [(1,)]
        reader.execute("SET x = 1")
        reader.execute("BEGIN")
        reader.execute("COMMIT")
        for sql in ["INSERT INTO t VALUES (2)", "DROP TABLE t", "CREATE TABLE u CLONE t"]:
            with pytest.raises(chronolake.PermissionDenied, match="'reader' may not run"):
                reader.execute(sql)
        for sql in [
            "ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = 3",
            "ALTER ACCOUNT SET DATA_RETENTION_TIME_IN_DAYS = 3",
            "ALTER DATABASE main SET DATA_RETENTION_TIME_IN_DAYS = 3",
        ]:
            with pytest.raises(chronolake.PermissionDenied, match="needs the 'admin' role"):
                writer.execute(sql)
        with pytest.raises(chronolake.PermissionDenied, match="table compaction"):
            writer.compact_table("t", min_age_s=0, min_files=1)
        admin = lake.connect("acme", role="admin")
        admin.execute("ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = 3")
        admin.compact_table("t", min_age_s=0, min_files=1)
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
        refused = reader.execute(
            "SELECT user_name, query_type FROM INFORMATION_SCHEMA.QUERY_HISTORY "
            "WHERE execution_status <> 'SUCCESS' ORDER BY start_time"
        ).fetchall()
        assert refused[:3] == [("r", "INSERT"), ("r", "DROP_TABLE"), ("r", "CREATE_TABLE")]
        assert ("w", "ALTER_ACCOUNT") in refused


def test_admin_commands(tmp_path) -> None:
    runner = CliRunner()
    lake = ["--lake", str(tmp_path / "lake")]
    assert runner.invoke(cli, ["admin", "create-tenant", "acme", *lake]).exit_code == 0
    made = runner.invoke(
        cli,
        [
            "admin",
            "create-token",
            "--tenant",
            "acme",
            "--user",
            "alice",
            "--role",
            "admin",
            "--expires-in",
            "90d",
            *lake,
        ],
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    with chronolake.Lake(tmp_path / "lake") as shared:
        who = tokens.authenticate(shared, secret)
    assert (who.tenant, who.user, who.role) == ("acme", "alice", "admin")
    listed = runner.invoke(cli, ["admin", "list-tokens", "--format", "csv", *lake])
    assert who.token_id in listed.stdout and secret not in listed.stdout
    assert runner.invoke(cli, ["admin", "revoke-token", who.token_id, *lake]).exit_code == 0
    bad = runner.invoke(
        cli, ["admin", "create-token", "--tenant", "acme", "--user", "a", "--role", "boss", *lake]
    )
    assert bad.exit_code == 2 and "boss" in bad.output
    missing = runner.invoke(
        cli, ["admin", "create-token", "--tenant", "x", "--user", "a", "--role", "reader", *lake]
    )
    assert missing.exit_code == 1 and "create-tenant x" in missing.output
    assert "Traceback" not in missing.output
