// name: membership_write
// params: $rows = [{user, segment (int)}], $run
// returns: nothing. (:User)-[:IN_SEGMENT {run}]->(:Segment); the users' old edges were cleared first.
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (s:Segment {id: row.segment})
CREATE (u)-[:IN_SEGMENT {run: $run}]->(s)
