// name: text_profiles_run
// params: none
// returns: run, segments — the profiles run the graph's segments come from (the most common one first)
MATCH (s:Segment)
RETURN s.run AS run, count(s) AS segments
ORDER BY segments DESC, run DESC
LIMIT 1
