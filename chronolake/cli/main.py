"""The ``chronolake`` command group; errors become one red ``Error: ...`` line on stderr and
exit code 1 (2 for usage errors, as click does), never a traceback."""

from __future__ import annotations

from typing import Any

import click

import chronolake
from chronolake.sql.translate import to_error

from .admin import admin
from .copy_lake import copy_lake
from .history import history
from .maintain import maintain
from .output import print_error
from .restore import diff, restore, revert
from .shell import shell
from .sql import sql
from .storage import storage


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except chronolake.Error as e:
            print_error(e)
            raise click.exceptions.Exit(1) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as e:  # one line, never a traceback (a bug says so, to be reported)
            print_error(to_error(e))
            raise click.exceptions.Exit(1) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chronolake")
def cli() -> None:
    """chronolake: a time-travel SQL store over Parquet that speaks Snowflake SQL."""


cli.add_command(sql)
cli.add_command(shell)
cli.add_command(history)
cli.add_command(restore)
cli.add_command(revert)
cli.add_command(diff)
cli.add_command(maintain)
cli.add_command(storage)
cli.add_command(copy_lake)
cli.add_command(admin)


def main() -> None:
    """Entry point of the ``chronolake`` console script."""
    cli(prog_name="chronolake")
