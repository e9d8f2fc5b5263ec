// name: events_merge
// params: $rows = [{user, item, times: [epoch ms, distinct], rating, rating_at}]; identifier {{rel}}
// returns: nothing. Idempotent: an event is its (user, item, type, time); times already on the
// edge are not counted again, so re-ingesting a file or overlapping files never inflate counts.
UNWIND $rows AS row
MERGE (u:User {id: row.user})
MERGE (p:Product {id: row.item})
MERGE (u)-[r:{{rel}}]->(p)
WITH r, row, coalesce(r.event_times, []) AS old
SET r.rating = CASE
        WHEN row.rating IS NULL THEN r.rating
        WHEN r.last_at IS NULL OR row.rating_at >= r.last_at THEN row.rating
        ELSE r.rating END
WITH r, old + [t IN row.times WHERE NOT t IN old] AS times
SET r.event_times = times,
    r.count = size(times),
    r.first_at = reduce(m = times[0], t IN times | CASE WHEN t < m THEN t ELSE m END),
    r.last_at = reduce(m = times[0], t IN times | CASE WHEN t > m THEN t ELSE m END)
