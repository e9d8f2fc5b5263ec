// name: manifest_get
// params: $id
// returns: run — the IngestRun's properties, or no row
MATCH (r:IngestRun {id: $id})
RETURN r {.*} AS run
