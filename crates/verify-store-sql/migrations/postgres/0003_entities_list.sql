-- verify-store-sql schema v3 (PostgreSQL): listing a service's entities
-- (`GET /v2/Services/{sid}/Entities`) reads the keys `(date_created, sid)` of the
-- service's rows in list order; this index holds exactly those, so the listing is
-- one index range scan instead of a table scan. No row changes.
CREATE INDEX verify_entities_list ON verify_entities (service_sid, date_created, sid);
