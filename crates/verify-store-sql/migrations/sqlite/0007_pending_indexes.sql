-- verify-store-sql schema v7: the pending challenges of an entity, and of a factor,
-- in list order. A `Status=pending` list (and the engine's count of a push factor's
-- pending challenges, on every push challenge it creates) otherwise walks every
-- challenge made within the longest lifetime, answered or not: on a busy factor
-- that range grows with the traffic. Partial indexes hold only rows whose stored
-- status is pending, so they stay as small as what is waiting for an answer.
CREATE INDEX verify_challenges_entity_pending
    ON verify_challenges (service_sid, entity_sid, date_created, sid, expiration_date)
    WHERE status = 'pending';
CREATE INDEX verify_challenges_factor_pending
    ON verify_challenges (service_sid, entity_sid, factor_sid, date_created, sid, expiration_date)
    WHERE status = 'pending';
