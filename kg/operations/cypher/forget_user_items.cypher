// name: forget_user_items
// params: $id (user pseudonym)
// returns: id, positive — every product the user has a behaviour edge to; positive when bought or rated
// (the items BOUGHT_TOGETHER counts and POPULAR_IN shares count the user for).
MATCH (u:User {id: $id})-[r:VIEWED|FAVORITED|CARTED|PURCHASED|RATED]->(p:Product)
RETURN p.id AS id, max(CASE WHEN type(r) IN ['PURCHASED', 'RATED'] THEN 1 ELSE 0 END) AS positive
