// name: segment_of_users
// params: $users = [user id (pseudonym)]
// returns: user, segment — the current segment of each of these users that has one
UNWIND $users AS k
MATCH (u:User {id: k})-[:IN_SEGMENT]->(s:Segment)
RETURN u.id AS user, s.id AS segment
