"""Jobs: accepting them (create), running them (run), and what decides when and whether
they run (engine, budgets, limits). Callers use the names below; the submodules hold the rest."""

from gallery.jobs.create import ModelUnavailable, cancel_job, create_job, retry_job
from gallery.jobs.run import claim_job, retry_delay, run_job

__all__ = [
    "ModelUnavailable",
    "cancel_job",
    "claim_job",
    "create_job",
    "retry_delay",
    "retry_job",
    "run_job",
]
