"""``kg forget USER_ID``: remove one person from the graph, the event ledger and every file under ``KG_HOME``.

The raw id is pseudonymised on the way in (as at ingest). Under the graph's writer lock:

1. the person goes on the suppression list (:class:`kg.foundation.forgotten.ForgottenUsers`), so a re-ingest
   skips their rows unless asked (``--allow-forgotten``);
2. the aggregates they contributed to are corrected: ``BOUGHT_TOGETHER`` counts between two products
   they bought or rated lose one (an edge at 0 goes), their segment's ``size`` and ``POPULAR_IN``
   shares drop them, and after their reviews are deleted the ``HAS_ASPECT`` aggregates of the reviewed
   products are recomputed from the remaining ``MENTIONS``;
3. their reviews (with mentions), then their ``User`` node with every edge (behaviour, interests,
   segment membership, recommendations, vectors) are deleted, and nodes only they created (aspects,
   catalogue-less products) with them;
4. the ledger drops their events and pairs and is vacuumed and checkpointed (no old pages left);
   then every Parquet mirror of ``kg lake sync`` rewrites the day partitions that hold their rows (after the
   ledger, so that a sync cannot bring them back; a mirror without pyarrow installed stops the forget before
   it changes anything);
5. quarantine files lose the lines naming them; embedding runs and recorded export folders turn their
   label into a tombstone, with zeroed vectors and without their triples;
6. the embedded server's append-only log is rewritten (and its snapshot, when there is one);
7. the inboxes ``kg schedule`` used (recorded in ``KG_HOME/schedule/inboxes.json``, often outside
   ``KG_HOME``): the files kg moved to their ``done/`` and ``failed/`` lose the person's rows (CSV records,
   JSON lines; gzip kept) and their ``.report.json`` the person's id; a file kg never owned (one still
   waiting in the inbox) is left as it is and named in the report, with how to remove it;
8. every file under ``KG_HOME`` is searched for the pseudonym (and, in text files, the raw id);
   line-oriented text files lose matching lines, anything else found is reported as a trace; so is the
   server's own data outside the graph (FalkorDB's query telemetry), read through the client;
9. a line with the time and the counts (never the person) is appended to the forget log.

What was gathered in 1-2 and each decrement made are recorded (``privacy/forget-pending.json``, by token, no
id) until the end, and each decrement marks the person's ``IN_SEGMENT`` edge in the same query: a forget
interrupted at any step is finished by running it again, and corrects nothing twice.

This package is top-layer orchestration (like the CLI): it may use ``ingest``, ``embeddings`` and ``profiles``.
Its modules, one job each: :mod:`~kg.operations.forget.person` runs the steps in order (``forget_user``);
:mod:`~kg.operations.forget.graph` gathers, corrects and deletes in the graph (1-3) and drops the ledger
events (4), recording its progress in :mod:`~kg.operations.forget.progress`; :mod:`~kg.operations.forget.files`
scrubs the Parquet mirrors (4), the quarantine, embedding runs and exports (5) and sweeps ``KG_HOME`` (8);
:mod:`~kg.operations.forget.inboxes` rewrites the copies in the inboxes of ``kg schedule`` (7);
:mod:`~kg.operations.forget.traces` matches the person's ids in files; :mod:`~kg.operations.forget.report`
holds :class:`ForgetReport`.

>>> report = forget_user(store, settings, "A31UBHTUUIFJUT")   # doctest: +SKIP
>>> report.found, report.disk["traces"]                        # doctest: +SKIP
(True, [])
"""

from __future__ import annotations

from kg.operations.forget.person import forget_user
from kg.operations.forget.report import ForgetReport
from kg.operations.forget.traces import TEXT_SUFFIXES, find_server_traces, find_traces

__all__ = ["ForgetReport", "forget_user", "find_traces", "find_server_traces", "TEXT_SUFFIXES"]
