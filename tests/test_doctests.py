"""The examples in chronolake's docstrings run and print what they show.

Every docstring example of every chronolake module is one test. Each runs with ``lake`` bound
to the path of a fresh, empty directory under pytest's temporary directory, and with that
directory as the current one, so an example never leaves a file in the repository. The public
API must carry an example (``PUBLIC``), so that none loses its example unnoticed.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import chronolake

# The public API: each of these must have a docstring with a runnable example.
PUBLIC = [
    chronolake.connect,
    chronolake.Lake,
    chronolake.Lake.connect,
    chronolake.Connection,
    chronolake.Connection.cursor,
    chronolake.Connection.execute,
    chronolake.Connection.commit,
    chronolake.Connection.rollback,
    chronolake.Connection.register,
    chronolake.Connection.table_history,
    chronolake.Connection.restore_table,
    chronolake.Connection.revert_statement,
    chronolake.Connection.changes,
    chronolake.Connection.compact_table,
    chronolake.Connection.storage_metrics,
    chronolake.Cursor,
    chronolake.Cursor.execute,
    chronolake.Cursor.executemany,
    chronolake.Cursor.fetchone,
    chronolake.Cursor.fetchmany,
    chronolake.Cursor.fetchall,
    chronolake.Cursor.fetch_arrow_all,
    chronolake.Cursor.fetch_pandas_all,
    chronolake.write_arrow,
    chronolake.write_pandas,
]


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    found: list[doctest.DocTest] = []
    modules = pkgutil.walk_packages(chronolake.__path__, "chronolake.")
    for info in sorted(modules, key=lambda m: m.name):
        module = importlib.import_module(info.name)
        found.extend(t for t in finder.find(module, module=module) if t.examples)
    return sorted(found, key=lambda t: t.name)


DOCTESTS = _doctests()


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_example(
    test: doctest.DocTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # anything an example writes lands here
    lake = tmp_path / "lake"
    lake.mkdir()
    test.globs = {**test.globs, "lake": str(lake)}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures: list[str] = []

    def report(out: str) -> None:
        failures.append(out)

    result = runner.run(test, out=report, clear_globs=True)
    assert result.failed == 0, "".join(failures)


@pytest.mark.parametrize("obj", PUBLIC, ids=[p.__qualname__ for p in PUBLIC])
def test_public_api_has_an_example(obj: Any) -> None:
    examples = doctest.DocTestParser().get_examples(obj.__doc__ or "")
    assert examples, f"{obj.__qualname__} has no runnable example in its docstring"
    assert any(obj.__qualname__ in t.name for t in DOCTESTS), f"{obj.__qualname__} not collected"
