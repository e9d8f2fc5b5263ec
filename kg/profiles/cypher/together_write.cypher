// name: together_write
// params: $rows = [{source, target, count}], $run
// returns: nothing. (:Product)-[:BOUGHT_TOGETHER {count, run}]->(:Product): count = distinct users who
// bought or rated both; each product's strongest partners (and every pair a recommendation reason uses).
UNWIND $rows AS row
MATCH (p:Product {id: row.source})
MATCH (q:Product {id: row.target})
CREATE (p)-[:BOUGHT_TOGETHER {count: row.count, run: $run}]->(q)
