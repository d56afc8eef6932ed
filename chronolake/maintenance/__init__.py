"""Maintenance: work that changes how data is stored, never what any snapshot reads."""

from chronolake.maintenance.compaction import CompactionReport as CompactionReport
from chronolake.maintenance.compaction import compact_table as compact_table
