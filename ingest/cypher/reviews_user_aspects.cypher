// name: reviews_user_aspects
// params: $rows = [user id (pseudonym)]
// returns: nothing. Recomputes (:User)-[:CARES_ABOUT {mentions, score}]->(:Aspect) from the
// MENTIONS of the user's reviews (score: mean mention sentiment, 3 decimals).
UNWIND $rows AS k
MATCH (u:User {id: k})-[:WROTE]->(:Review)-[m:MENTIONS]->(a:Aspect)
WITH u, a, count(m) AS mentions, avg(m.sentiment) AS score
MERGE (u)-[c:CARES_ABOUT]->(a)
SET c.mentions = mentions, c.score = round(1000.0 * score) / 1000.0
