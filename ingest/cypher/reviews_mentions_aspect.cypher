// name: reviews_mentions_aspect
// params: $rows = [{review, aspect (normalised, canonical name), opinion, sentiment (-1..1 or null), surface (the aspect as written in the review, any language)}]
// returns: nothing. One MENTIONS edge per (review, aspect, opinion).
UNWIND $rows AS row
MATCH (r:Review {id: row.review})
MERGE (a:Aspect {name: row.aspect})
MERGE (r)-[m:MENTIONS {opinion: row.opinion}]->(a)
SET m.sentiment = row.sentiment, m.surface = row.surface
