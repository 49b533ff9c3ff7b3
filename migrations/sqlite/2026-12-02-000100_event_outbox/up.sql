-- The outbox of the event log on PostgreSQL (see the PostgreSQL migration).
-- SQLite has one writer at a time, so writers append to `events` directly
-- and this table stays empty; it exists so both backends share one schema.
CREATE TABLE event_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    purge_keys TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
