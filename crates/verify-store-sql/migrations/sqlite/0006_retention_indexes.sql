-- verify-store-sql schema v6: the indexes `prune_expired` reads. Challenges past a
-- retention period are removed oldest expiration first, and factor creation times
-- older than a day (the daily creation quota's window) with them; without these
-- indexes each pass would read every challenge and every creation time.
CREATE INDEX verify_challenges_expiration ON verify_challenges (expiration_date, sid);
CREATE INDEX verify_factor_creations_date ON verify_factor_creations (date_created);
