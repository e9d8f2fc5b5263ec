// name: review_volume
// description: Reviews per calendar month with mean rating and mean sentiment, oldest first.
// subject: shop
// param: from_month text default=0000-01 example=2018-01 -- first month (YYYY-MM, UTC)
// param: to_month text default=9999-12 example=2018-12 -- last month (YYYY-MM, UTC)
// returns: month, reviews, avg_rating, avg_sentiment
MATCH (r:Review)
WHERE r.month >= $from_month AND r.month <= $to_month
RETURN r.month AS month, count(r) AS reviews, round(100.0 * avg(r.rating)) / 100.0 AS avg_rating,
       round(1000.0 * avg(r.sentiment)) / 1000.0 AS avg_sentiment
ORDER BY month
