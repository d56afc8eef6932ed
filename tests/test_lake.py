"""One ``Lake`` per process, many connections on it: tenants, users, threads, closing."""

from __future__ import annotations

import threading

import pytest
from lake_forms import LakeSpec

import chronolake


def test_connections_of_one_lake_see_each_others_commits(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        a, b = lake.connect(), lake.connect()
        a.execute("CREATE TABLE t (id INT)")
        a.execute("INSERT INTO t VALUES (1), (2)")
        assert b.execute("SELECT count(*) FROM t").fetchone() == (2,)
        # and one opened later by the shortcut sees them too: same files, same catalog
    with lake_spec.connect() as c:
        assert c.execute("SELECT sum(id) FROM t").fetchone() == (3,)


def test_tenants_of_one_lake_are_apart(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        acme, globex = lake.connect(tenant="acme"), lake.connect(tenant="globex")
        acme.execute("CREATE TABLE orders (id INT)")
        with pytest.raises(chronolake.NotFound, match="ORDERS"):
            globex.execute("SELECT * FROM orders")
        assert globex.execute("SHOW TABLES").fetchall() == []


def test_user_names_the_sessions_user(lake_spec: LakeSpec) -> None:
    with lake_spec.lake() as lake:
        con = lake.connect(user="alice")
        con.execute("CREATE TABLE t (id INT)")
        assert con.execute("SELECT CURRENT_USER()").fetchone() == ("alice",)
        other = lake.connect()
        assert other.execute("SELECT CURRENT_USER()").fetchone() == ("CHRONOLAKE",)
        users = other.execute(
            "SELECT DISTINCT user_name FROM INFORMATION_SCHEMA.QUERY_HISTORY "
            "WHERE query_text LIKE 'CREATE TABLE%'"
        ).fetchall()
        assert users == [("alice",)]


@pytest.mark.parametrize("user", ["", "  ", 7])
def test_bad_user_is_refused(tmp_path, user):
    with (
        chronolake.Lake(tmp_path) as lake,
        pytest.raises(chronolake.ProgrammingError, match="user"),
    ):
        lake.connect(user=user)


def test_bad_tenant_is_refused_and_creates_nothing(tmp_path):
    with (
        chronolake.Lake(tmp_path / "lake") as lake,
        pytest.raises(chronolake.ProgrammingError, match="Invalid tenant name"),
    ):
        lake.connect(tenant="../x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]
    assert not (tmp_path / "lake" / "data").exists()


def test_closing_the_lake_closes_its_connections_and_rolls_back(lake_spec: LakeSpec) -> None:
    lake = lake_spec.lake()
    con = lake.connect()
    con.execute("CREATE TABLE t (id INT)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (1)")
    lake.close()
    assert lake.closed
    with pytest.raises(chronolake.InterfaceError, match="closed"):
        con.execute("SELECT 1")
    with pytest.raises(chronolake.InterfaceError, match="lake is closed"):
        lake.connect()
    lake.close()  # twice is harmless
    with lake_spec.connect() as again:
        assert again.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_read_only_lake_needs_the_tenant_and_writes_nothing(lake_spec: LakeSpec) -> None:
    with lake_spec.connect(tenant="acme") as con:
        con.execute("CREATE TABLE t (id INT)")
    with (
        lake_spec.lake(read_only=True) as lake,
        pytest.raises(chronolake.NotFound, match="Tenant 'globex' does not exist"),
    ):
        lake.connect(tenant="globex")
        ro = lake.connect(tenant="acme")
        with pytest.raises(chronolake.ReadOnlyError):
            ro.execute("INSERT INTO t VALUES (1)")
        assert ro.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert lake_spec.list_files("globex") == {}
    assert lake_spec.catalog_rows("SELECT 1 FROM cl_tenants WHERE tenant_id = 'globex'") == []


def test_read_only_lake_needs_a_lake(tmp_path):
    with pytest.raises(chronolake.NotFound, match="never creates a lake"):
        chronolake.Lake(tmp_path / "nothing", read_only=True)
    assert not (tmp_path / "nothing").exists()


def test_threads_share_one_lake(lake_spec: LakeSpec) -> None:
    """Eight threads, each with its own connection, commit into two tenants of one Lake;
    conflicts are retried by autocommit, so every insert lands exactly once."""
    per_thread, threads = 15, 8
    with lake_spec.lake() as lake:
        for tenant in ("acme", "globex"):
            lake.connect(tenant=tenant).execute("CREATE TABLE t (thread INT, n INT)")
        failures: list[BaseException] = []

        def work(k: int) -> None:
            try:
                con = lake.connect(tenant="acme" if k % 2 else "globex")
                for n in range(per_thread):
                    con.execute("INSERT INTO t VALUES (?, ?)", [k, n])
                con.close()
            except BaseException as e:  # reported below, in the test's thread
                failures.append(e)

        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert failures == []
        for tenant, parity in (("acme", 1), ("globex", 0)):
            rows = (
                lake.connect(tenant=tenant)
                .execute(
                    "SELECT thread, count(*), count(DISTINCT n) FROM t GROUP BY thread ORDER BY 1"
                )
                .fetchall()
            )
            assert rows == [(k, per_thread, per_thread) for k in range(threads) if k % 2 == parity]


def test_lake_cannot_be_pickled(tmp_path):
    import pickle

    with chronolake.Lake(tmp_path) as lake, pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(lake)


@pytest.mark.parametrize(
    ("location", "storage", "options", "error", "message"),
    [
        ("{tmp}/lake", "{tmp}/files", None, chronolake.ProgrammingError, "goes with a catalog URL"),
        ("sqlite:///{tmp}/c.sqlite", None, None, chronolake.ProgrammingError, "needs storage="),
        (
            "sqlite:///{tmp}/c.sqlite",
            "gs://bucket/x",
            None,
            chronolake.NotSupportedError,
            "Storage gs:// is not supported",
        ),
        (
            "sqlite:///{tmp}/c.sqlite",
            "{tmp}/files",
            {"endpoint_url": "http://x"},
            chronolake.ProgrammingError,
            "storage_options go with S3 storage",
        ),
        ("mysql://u@h/db", "{tmp}/files", None, chronolake.InterfaceError, "Unsupported catalog"),
    ],
)
def test_bad_addresses_are_refused_and_create_nothing(
    tmp_path, location, storage, options, error, message
):
    def fill(text):
        return text.format(tmp=tmp_path) if isinstance(text, str) else text

    with pytest.raises(error, match=message):
        chronolake.Lake(fill(location), fill(storage), storage_options=options)
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_catalog_url_with_files_elsewhere(tmp_path):
    catalog = f"sqlite:///{tmp_path / 'meta' / 'catalog.sqlite'}"
    (tmp_path / "meta").mkdir()
    with chronolake.Lake(catalog, tmp_path / "files") as lake:
        lake.connect().execute("CREATE TABLE t AS SELECT 1 AS x")
        assert catalog.removeprefix("sqlite:///") in lake.location
    assert (tmp_path / "meta" / "catalog.sqlite").is_file()
    assert (tmp_path / "files" / "data" / "default").is_dir()
    with chronolake.connect(catalog, tmp_path / "files", read_only=True) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
