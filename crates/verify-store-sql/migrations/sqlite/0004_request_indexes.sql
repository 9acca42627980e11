-- verify-store-sql schema v4 (SQLite): every lookup and list a request makes is one
-- index range scan whose length is the size of the answer, not of the service.
--
-- A challenge list (`WHERE entity_sid = ? AND service_sid = ?`, optionally `AND
-- factor_sid = ?`) was planned on `verify_challenges_service (service_sid)` and read
-- every challenge of the service (1 ms at 10^3 challenges, 353 ms at 10^6). These two
-- indexes start with both equality columns, then hold the list order
-- (`date_created, sid`) and the columns the status filter reads (`status,
-- expiration_date`), so the list is answered from the index alone. The second also
-- serves the cascade from `verify_factors` (its foreign key is `(service_sid,
-- entity_sid, factor_sid)`).
CREATE INDEX verify_challenges_entity_list
    ON verify_challenges (service_sid, entity_sid, date_created, sid, status, expiration_date);
CREATE INDEX verify_challenges_factor_list
    ON verify_challenges (service_sid, entity_sid, factor_sid, date_created, sid, status, expiration_date);
-- Superseded by the two above (same leading columns for every query that used them;
-- no query filters on status in SQL): one index fewer to write per challenge update.
DROP INDEX verify_challenges_by_factor;
DROP INDEX verify_challenges_by_status;

-- An entity's factors (`WHERE entity_sid = ? AND service_sid = ? ORDER BY
-- date_created, sid`, and the list keys) in order without a sort.
CREATE INDEX verify_factors_entity_list
    ON verify_factors (service_sid, entity_sid, date_created, sid);
