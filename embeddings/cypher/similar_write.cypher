// name: similar_write
// params: $rows = [{id, targets: [{id, score}]}], $run (run id)
// returns: nothing. (:Product)-[:SIMILAR_TO {score, run}]->(:Product), top k per product; MERGE, so re-runs
// never duplicate (embed_clear_similar removes the edges of earlier runs first).
UNWIND $rows AS row
MATCH (p:Product {id: row.id})
UNWIND row.targets AS target
MATCH (q:Product {id: target.id})
MERGE (p)-[s:SIMILAR_TO]->(q)
SET s.score = target.score, s.run = $run
