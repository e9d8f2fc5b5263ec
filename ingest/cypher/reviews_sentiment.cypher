// name: reviews_sentiment
// params: $rows = [{id, sentiment (-1..1 or null), method ("encoder-crossfit"|"lexicon")}]
// returns: nothing
UNWIND $rows AS row
MATCH (r:Review {id: row.id})
SET r.sentiment = row.sentiment, r.sentiment_method = row.method
