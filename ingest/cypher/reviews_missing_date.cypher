// name: reviews_missing_date
// params: $limit
// returns: id, at (created_at, epoch ms) — reviews written before Review.date/month were stored (for the backfill)
MATCH (r:Review)
WHERE r.month IS NULL AND r.created_at IS NOT NULL
RETURN r.id AS id, r.created_at AS at
LIMIT $limit
