-- Events wait here, written in the transaction of their change, until a
-- sequencer moves them into `events` (src/events/queries.rs, `sequence`).
-- Writers no longer queue on one lock until they commit: only sequencers
-- take it, for a batch at a time, so `events` ids still become visible in
-- order and a consumer reading `id > cursor` never skips one.
CREATE TABLE event_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    purge_keys TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
