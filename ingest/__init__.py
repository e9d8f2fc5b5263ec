"""Ingest: stream shop files (events, catalogues, reviews) into the graph, idempotently.

Each input format is a *reader* (lines -> records or :class:`kg.ingest.records.BadRow`), each kind of
record has a *loader* (records -> batched ``UNWIND ... MERGE`` writes); :mod:`kg.ingest.formats` is the
one registry of both, and :func:`ingest_file` is the entry point every caller uses.
"""

from kg.ingest.api import expand_paths, ingest_file, ingest_files, rebuild
from kg.ingest.report import IngestReport

__all__ = ["IngestReport", "expand_paths", "ingest_file", "ingest_files", "rebuild"]
