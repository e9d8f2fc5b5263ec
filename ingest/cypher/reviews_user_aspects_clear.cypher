// name: reviews_user_aspects_clear
// params: $rows = [user id (pseudonym)]
// returns: nothing. Removes CARES_ABOUT aggregates before they are recomputed.
UNWIND $rows AS k
MATCH (u:User {id: k})-[c:CARES_ABOUT]->(:Aspect)
DELETE c
