"""The analyst query library as data: ``analyst/<name>.cypher``, with per-backend files in ``analyst/falkordb/``
and ``analyst/neo4j/`` (loaded by :mod:`kg.analyst.library`; see README.md). kg's own queries live beside the
code that runs them, in each package's ``cypher/`` subpackage."""
