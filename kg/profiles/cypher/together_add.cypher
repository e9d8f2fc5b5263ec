// name: together_add
// params: $rows = [{source, target, count}], $run
// returns: nothing. Adds the BOUGHT_TOGETHER edges a kg update's reasons use and the last kg profiles run did
// not write (MERGE: an edge that exists keeps its count).
UNWIND $rows AS row
MATCH (p:Product {id: row.source})
MATCH (q:Product {id: row.target})
MERGE (p)-[r:BOUGHT_TOGETHER]->(q)
ON CREATE SET r.count = row.count, r.run = $run
