// name: recommended_write
// params: $rows = [{user, product, score, rank, reason, path: ["Label:key"], path_types: [rel type]}], $run
// returns: nothing. (:User)-[:RECOMMENDED {score, rank, run, reason, path, path_types}]->(:Product); path
// is the reason as the nodes it walks (first the user, last the product), path_types the edges between.
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (p:Product {id: row.product})
CREATE (u)-[:RECOMMENDED {score: row.score, rank: row.rank, run: $run, reason: row.reason, path: row.path,
                          path_types: row.path_types}]->(p)
