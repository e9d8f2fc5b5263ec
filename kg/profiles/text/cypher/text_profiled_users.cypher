// name: text_profiled_users
// params: none
// returns: user — every user kg profiles put in a segment (pseudonyms), in id order
MATCH (u:User)-[:IN_SEGMENT]->(:Segment)
RETURN u.id AS user
ORDER BY user
