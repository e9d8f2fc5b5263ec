// name: popular_write
// params: $rows = [{segment (int), product, rank, share}], $run
// returns: nothing. (:Product)-[:POPULAR_IN {rank, share, run}]->(:Segment): the segment's best sellers
// (share: fraction of the segment's users who bought it). Segment nodes are rewritten per run, and
// their old POPULAR_IN edges with them (profiles_popular_clear runs first).
UNWIND $rows AS row
MATCH (s:Segment {id: row.segment})
MATCH (p:Product {id: row.product})
CREATE (p)-[:POPULAR_IN {rank: row.rank, share: row.share, run: $run}]->(s)
