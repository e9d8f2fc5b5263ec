// name: user_texts
// description: The texts kg wrote from a person's graph facts (kg profiles --text): the profile text, who wrote it, and a sentence per recommendation, best first.
// subject: user
// param: user text raw-user-id example=A31UBHTUUIFJUT -- id in your logs (kg pseudonymises it), or give pseudonym=HEX
// returns: user, profile_text, source, model, run, reasons
MATCH (u:User {id: $user})
OPTIONAL MATCH (u)-[r:RECOMMENDED]->(:Product)
WITH u, r
ORDER BY r.rank
RETURN u.id AS user, u.profile_text AS profile_text, u.profile_text_source AS source, u.profile_text_model AS model,
       u.profile_text_run AS run, collect(r.reason_text) AS reasons
