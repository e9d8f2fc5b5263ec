// name: segment_texts
// description: Every segment's name and one-sentence description as kg wrote them from its facts (kg profiles --text), with who wrote them, largest first.
// subject: shop
// returns: segment, label, name, description, source, model, size
MATCH (s:Segment)
RETURN s.id AS segment, s.label AS label, s.name AS name, s.description AS description, s.name_source AS source,
       s.name_model AS model, s.size AS size
ORDER BY size DESC, segment
