// name: manifest_finish
// params: $id, $props (rows_ok, rows_bad, finished_at, status)
// returns: nothing
MATCH (r:IngestRun {id: $id})
SET r += $props
