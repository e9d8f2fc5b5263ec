// name: reviews_sentiment_eval
// params: none
// returns: id, rating, sentiment, method — every rated review's stored sentiment (for evaluation)
MATCH (r:Review)
WHERE r.rating IS NOT NULL AND r.sentiment IS NOT NULL
RETURN r.id AS id, r.rating AS rating, r.sentiment AS sentiment, r.sentiment_method AS method
