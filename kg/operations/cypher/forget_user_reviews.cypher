// name: forget_user_reviews
// params: $id (user pseudonym)
// returns: reviews, mentions, products, aspects — what the user's reviews are about and mention.
MATCH (u:User {id: $id})-[:WROTE]->(r:Review)
OPTIONAL MATCH (r)-[m:MENTIONS]->()
WITH r, count(m) AS mentions
OPTIONAL MATCH (r)-[:ABOUT]->(p:Product)
WITH r, mentions, collect(p.id) AS products
OPTIONAL MATCH (r)-[:MENTIONS]->(a:Aspect)
WITH r, mentions, products, collect(a.name) AS aspects
RETURN count(r) AS reviews, sum(mentions) AS mentions, collect(products) AS products, collect(aspects) AS aspects
