// name: reviews_set_date
// params: $rows = [{id, date ('YYYY-MM-DD', UTC), month ('YYYY-MM')}]
// returns: nothing. Adds the derived day/month of existing reviews; touches no other property.
UNWIND $rows AS row
MATCH (r:Review {id: row.id})
SET r.date = row.date, r.month = row.month
