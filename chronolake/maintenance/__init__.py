"""Maintenance: work that changes how data is stored, never what any snapshot reads."""

from chronolake.maintenance.cleanup import CleanupReport as CleanupReport
from chronolake.maintenance.cleanup import cleanup as cleanup
from chronolake.maintenance.compaction import CompactionReport as CompactionReport
from chronolake.maintenance.compaction import compact_table as compact_table
from chronolake.maintenance.expire import ExpiryReport as ExpiryReport
from chronolake.maintenance.expire import expire as expire
from chronolake.maintenance.orphans import OrphanReport as OrphanReport
from chronolake.maintenance.orphans import remove_orphans as remove_orphans
from chronolake.maintenance.policy import MaintenancePolicy as MaintenancePolicy
from chronolake.maintenance.policy import MaintenanceRun as MaintenanceRun
from chronolake.maintenance.policy import maintenance_runs as maintenance_runs
from chronolake.maintenance.policy import run_maintenance as run_maintenance
from chronolake.maintenance.policy import tables_to_compact as tables_to_compact
from chronolake.maintenance.purge import purge as purge
from chronolake.maintenance.purge import purge_steps as purge_steps
from chronolake.maintenance.target import HasSession as HasSession
from chronolake.maintenance.task import MaintenanceTask as MaintenanceTask
