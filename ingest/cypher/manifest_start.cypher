// name: manifest_start
// params: $id, $props (file, kind, format, checksum, started_at)
// returns: nothing
MERGE (r:IngestRun {id: $id})
SET r += $props, r.status = 'running', r.finished_at = null
