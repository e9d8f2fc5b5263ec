// name: interests_write
// params: $rows = [{user, key, score}], $run, $updated_at (epoch ms); identifiers {{label}} {{key}}
//         (Category path | Brand name | Aspect name)
// returns: nothing. (:User)-[:INTERESTED_IN {score, updated_at, run}]->(:{{label}}); the users' old edges
// were cleared first (profiles_user_edges_clear).
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (t:{{label}} {{{key}}: row.key})
CREATE (u)-[:INTERESTED_IN {score: row.score, updated_at: $updated_at, run: $run}]->(t)
