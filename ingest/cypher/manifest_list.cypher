// name: manifest_list
// params: none
// returns: run — every IngestRun, newest first
MATCH (r:IngestRun)
RETURN r {.*} AS run
ORDER BY r.started_at DESC
