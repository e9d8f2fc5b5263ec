// name: segment_sizes
// params: none
// returns: nothing. Sets each Segment's size to its current number of members (after kg update or kg forget).
MATCH (s:Segment)
OPTIONAL MATCH (u:User)-[:IN_SEGMENT]->(s)
WITH s, count(u) AS members
SET s.size = members
