"""Ingest: stream shop files (events, catalogues, reviews) into the graph, idempotently.

Each input format is a *reader* (lines -> records or :class:`ingest.records.BadRow`), each kind of
record has a *loader* (records -> batched ``UNWIND ... MERGE`` writes), and
:func:`ingest.runner.run_ingest` ties them together with the manifest, the quarantine and progress.
"""
