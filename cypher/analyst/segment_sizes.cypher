// name: segment_sizes
// description: Every segment with its label, size, share of profiled users and top interests, largest first.
// subject: shop
// returns: segment, label, size, share, top_interests
MATCH (s:Segment)
WITH collect(s) AS segments, sum(s.size) AS total
UNWIND segments AS s
RETURN s.id AS segment, s.label AS label, s.size AS size,
       CASE WHEN total > 0 THEN round(1000.0 * s.size / total) / 1000.0 END AS share, s.top_interests AS top_interests
ORDER BY size DESC, segment
