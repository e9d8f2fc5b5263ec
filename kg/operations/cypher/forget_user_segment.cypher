// name: forget_user_segment
// params: $id (user pseudonym)
// returns: segment, run — the user's segment and the profiles run that put them there.
MATCH (u:User {id: $id})-[r:IN_SEGMENT]->(s:Segment)
RETURN s.id AS segment, r.run AS run
