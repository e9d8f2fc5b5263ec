// name: text_user_stale_clear
// params: $run (the current profiles run), $limit (users per page)
// returns: cleared — users whose kg-written profile text came from another run and was removed (page by page)
MATCH (u:User)
WHERE u.profile_text_source IS NOT NULL AND (u.profile_text_run IS NULL OR u.profile_text_run <> $run)
WITH u LIMIT $limit
REMOVE u.profile_text, u.profile_text_source, u.profile_text_model, u.profile_text_run
RETURN count(u) AS cleared
