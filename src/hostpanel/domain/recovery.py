"""After a crash or a restart: finish what stopped processes left behind, before serving."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from hostpanel.domain.backups.runner import BackupRunner
from hostpanel.domain.files.staging import Staging

log = logging.getLogger(__name__)


def recover(
    runner: BackupRunner,
    staging: Staging,
    homes_root: Path,
    publish_mail: Callable[[], None],
    create_zones: Callable[[], list[str]],
) -> None:
    """End the backup jobs whose process died, remove the staged work those processes left (partial uploads,
    archives, restores), rewrite the mail server's files, and make the zones of domains that have none. One failing
    step neither stops the others nor the server from starting: each is logged."""

    def end_orphaned_jobs() -> None:
        if ended := runner.recover(homes_root):
            log.warning("ended %d backup job(s) left running by a stopped process", ended)

    def sweep_staging() -> None:
        if removed := staging.sweep():
            log.warning("removed %d unfinished staged file(s) left by a stopped process", removed)

    def make_missing_zones() -> None:
        if made := create_zones():
            log.warning("made the DNS zones of %d domain(s) that had none: %s", len(made), ", ".join(made[:10]))

    for step in (end_orphaned_jobs, sweep_staging, publish_mail, make_missing_zones):
        try:
            step()
        except Exception:
            log.exception("recovery step %s failed", getattr(step, "__name__", step))
