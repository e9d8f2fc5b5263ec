// name: relation_nodes
// params: $rows = [{type}]
// returns: nothing. (:Relation {type}) nodes that carry relation embeddings; MERGE, so re-runs never duplicate.
UNWIND $rows AS row
MERGE (r:Relation {type: row.type})
