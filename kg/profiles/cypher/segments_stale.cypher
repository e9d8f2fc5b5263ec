// name: segments_stale
// params: $run (the run just written)
// returns: deleted — Segment nodes of earlier runs that this run did not rewrite (with their edges).
MATCH (s:Segment)
WHERE s.run <> $run
DETACH DELETE s
RETURN count(*) AS deleted
