// name: text_user_write
// params: $rows = [{user, text, source ("model"|"template"), model}], $run (the profiles run)
// returns: nothing. Sets User.profile_text, profile_text_source, profile_text_model, profile_text_run; a
// profile_text kg did not write (no profile_text_source) is left alone.
UNWIND $rows AS row
MATCH (u:User {id: row.user})
WHERE u.profile_text IS NULL OR u.profile_text_source IS NOT NULL
SET u.profile_text = row.text, u.profile_text_source = row.source, u.profile_text_model = row.model,
    u.profile_text_run = $run
