"""``forget_user``: the steps of a forget, in order, under the graph's writer lock (see the package
docstring). The steps are looked up in this module when they run (tests interrupt them here)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kg.foundation.errors import ConfigError
from kg.foundation.forgotten import ForgottenUsers, record_forget
from kg.foundation.locks import writer_lock
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ledger.parquet_mirror import require_for_mirrors
from kg.operations.forget.files import _scrub_lake, _scrub_quarantine, _scrub_runs, _sweep
from kg.operations.forget.graph import _correct_aggregates, _delete_from_graph, _forget_ledger, _gather, _ledger_pairs
from kg.operations.forget.inboxes import _scrub_inboxes
from kg.operations.forget.progress import _Progress
from kg.operations.forget.report import ForgetReport
from kg.operations.forget.traces import _Needles, find_server_traces
from kg.store import GraphStore

__all__ = ["forget_user"]

logger = logging.getLogger(__name__)

_POSITIVE = ("purchase", "rating")
_SETTLE_S = 5.0  # how long to wait for the server to unlink its old log files after a rewrite


def forget_user(store: GraphStore, settings: Settings, raw_id: str, *, dry_run: bool = False) -> ForgetReport:
    """Forget the person whose raw id (as in the shop's logs) is ``raw_id``; see :mod:`kg.operations.forget`.

    ``dry_run`` counts what would go and changes nothing (not even the forgotten list).
    """
    raw = str(raw_id).strip() if raw_id is not None else ""
    if not raw:
        raise ConfigError("kg forget needs a user id", hint="pass the raw id as it appears in the shop's files")
    started = time.perf_counter()
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw)
    needles = _Needles(pseudonym, raw)
    report = ForgetReport(dry_run=dry_run)
    require_for_mirrors(settings)  # a Parquet mirror needs pyarrow to be rewritten: say so before changing anything
    with writer_lock(settings, what="kg forget"):
        if not dry_run:
            ForgottenUsers.from_settings(settings).add(pseudonym)  # first: a crash later still suppresses them
            report.suppressed = True
        progress = None if dry_run else _Progress(settings, ForgottenUsers.from_settings(settings).token(pseudonym))
        if progress is not None and progress.state is not None:  # an interrupted forget: resume it
            seen, positive, report.ledger = progress.resumed()
        else:
            seen = _gather(store, pseudonym)
            pairs = _ledger_pairs(settings, pseudonym)
            positive = sorted(seen["positive"] | {p.item for p in pairs if p.type in _POSITIVE})
            report.ledger = {"events": sum(int(p.count) for p in pairs), "pairs": len(pairs)}
            if progress is not None and (seen["exists"] or pairs):
                progress.start(seen, positive, report.ledger)
        report.found = seen["exists"] or any(report.ledger.values())
        rels = seen["relationships"]
        report.graph = {
            "user": int(seen["exists"]),
            "reviews": seen["reviews"],
            "mentions": seen["mentions"],
            **{k.lower(): v for k, v in sorted(rels.items())},
        }
        if dry_run:
            report.files = {
                **_scrub_quarantine(settings, needles, dry_run=True),
                **_scrub_runs(settings, f"User:{pseudonym}", dry_run=True),
                **_scrub_lake(settings, pseudonym, dry_run=True),
                **_scrub_inboxes(settings, needles.without_short_raw(raw), dry_run=True)[0],
            }
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        report.aggregates = _correct_aggregates(store, pseudonym, seen, positive, progress)
        deleted = _delete_from_graph(store, pseudonym, seen)
        report.graph["user"] = deleted["user"]
        report.graph["reviews"] = deleted["reviews"]
        report.aggregates["product_aspects_recomputed"] = len(seen["reviewed"])
        report.aggregates["orphan_nodes_deleted"] = deleted["orphan_nodes"]
        _forget_ledger(settings, pseudonym)
        lake = _scrub_lake(settings, pseudonym, dry_run=False)  # after the ledger: a sync cannot bring them back
        inbox_counts, inbox_disk = _scrub_inboxes(settings, needles.without_short_raw(raw), dry_run=False)
        report.files = {
            **_scrub_quarantine(settings, needles, dry_run=False),
            **_scrub_runs(settings, f"User:{pseudonym}", dry_run=False),
            **lake,
            **inbox_counts,
        }
        store.flush()
        # last: the forget's own queries name the person too; the store knows its server's files
        report.disk.update(store.purge_traces())  # disk is still empty here; traces etc. are added below
        from kg.embeddings.forget import recorded_exports

        exports = recorded_exports(settings.home)
        deadline = time.monotonic() + _SETTLE_S
        while True:  # the server unlinks the old log files just after the rewrite: give it a moment
            sweep = _sweep(settings, needles.without_short_raw(raw), exports)
            in_db = [t for t in sweep["traces"] if Path(t).is_relative_to(settings.db_dir)]
            if not in_db or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        report.disk.update(sweep)
        outside = [t for t in inbox_disk.pop("inbox_traces") if t not in sweep["traces"]]  # an inbox in KG_HOME
        report.disk.update(inbox_disk)
        report.disk["traces"] = sweep["traces"] + outside + find_server_traces(store, pseudonym, raw)
        report.files["other_lines"] = sweep["lines_dropped"]
        report.seconds = round(time.perf_counter() - started, 3)
        record_forget(settings, report.counts())
        if progress is not None:
            progress.finish()
    logger.info(
        "forget: user %s, %d events, %d reviews, %d traces left in %.1f s",
        "found" if report.found else "not found",
        report.ledger["events"],
        report.graph["reviews"],
        len(report.disk["traces"]),
        report.seconds,
    )
    return report
