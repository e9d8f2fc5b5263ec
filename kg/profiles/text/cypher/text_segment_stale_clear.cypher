// name: text_segment_stale_clear
// params: $run (the current profiles run); identifiers {{prop}}, {{source}}, {{model}}, {{run}} as in
// text_segment_write
// returns: cleared — segments whose kg-written text property came from another run and was removed
MATCH (s:Segment)
WHERE s.{{source}} IS NOT NULL AND (s.{{run}} IS NULL OR s.{{run}} <> $run)
REMOVE s.{{prop}}, s.{{source}}, s.{{model}}, s.{{run}}
RETURN count(s) AS cleared
