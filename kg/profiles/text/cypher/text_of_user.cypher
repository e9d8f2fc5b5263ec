// name: text_of_user
// params: $id (pseudonymised user id)
// returns: text, source, model, run, segment, segment_name, segment_name_source, segment_description,
// segment_description_source, segment_text_model — the texts stored for the user and their segment (nulls
// where none)
MATCH (u:User {id: $id})
OPTIONAL MATCH (u)-[:IN_SEGMENT]->(s:Segment)
RETURN u.profile_text AS text, u.profile_text_source AS source, u.profile_text_model AS model,
       u.profile_text_run AS run, s.id AS segment, s.name AS segment_name, s.name_source AS segment_name_source,
       s.description AS segment_description, s.description_source AS segment_description_source,
       coalesce(s.description_model, s.name_model) AS segment_text_model
