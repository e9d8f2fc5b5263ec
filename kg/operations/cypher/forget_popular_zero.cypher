// name: forget_popular_zero
// params: $segment (int)
// returns: deleted — POPULAR_IN edges of the segment whose share fell to 0 (no member buys it any more).
MATCH (:Product)-[r:POPULAR_IN]->(s:Segment {id: $segment})
WHERE r.share <= 0
DELETE r
RETURN count(*) AS deleted
