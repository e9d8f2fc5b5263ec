// name: stale_clear
// params: $run (the run just written), $limit (edges deleted per call); identifier {{rel}}
// returns: deleted — {{rel}} edges left by earlier runs (users no longer profiled); call until 0.
MATCH ()-[r:{{rel}}]->()
WHERE r.run <> $run
WITH r LIMIT $limit
DELETE r
RETURN count(*) AS deleted
