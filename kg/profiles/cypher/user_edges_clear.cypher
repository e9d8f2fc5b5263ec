// name: user_edges_clear
// params: $rows = [user id (pseudonym)]; identifier {{rel}} (INTERESTED_IN | IN_SEGMENT | RECOMMENDED)
// returns: nothing. Removes the given users' derived {{rel}} edges before their new ones are written, so a
// re-run replaces and never duplicates. Only derived edges kg profiles writes itself.
UNWIND $rows AS k
MATCH (u:User {id: k})-[r:{{rel}}]->()
DELETE r
