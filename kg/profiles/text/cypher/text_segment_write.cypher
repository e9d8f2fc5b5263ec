// name: text_segment_write
// params: $rows = [{segment (int), text, source ("model"|"template"), model}], $run (the profiles run);
// identifiers {{prop}} (name or description), {{source}}, {{model}}, {{run}} (its _source/_model/_run names)
// returns: nothing. Sets the segment's text property and its source, model and run; a value kg did not
// write (no _source beside it) is left alone.
UNWIND $rows AS row
MATCH (s:Segment {id: row.segment})
WHERE s.{{prop}} IS NULL OR s.{{source}} IS NOT NULL
SET s.{{prop}} = row.text, s.{{source}} = row.source, s.{{model}} = row.model, s.{{run}} = $run
