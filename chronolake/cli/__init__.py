"""The ``chronolake`` command line: ``sql``, ``shell`` and ``history``."""

from .main import main as main
