// name: segments_write
// params: $rows = [{id (int), size, label, top_interests: [text]}], $run
// returns: nothing. (:Segment {id, size, label, top_interests, run}); ids 1..k, re-runs overwrite.
UNWIND $rows AS row
MERGE (s:Segment {id: row.id})
SET s.size = row.size, s.label = row.label, s.top_interests = row.top_interests, s.run = $run
