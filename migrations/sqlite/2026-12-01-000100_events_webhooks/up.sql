-- The durable event log: one row per change a front end cares about,
-- written in the transaction of the change. Ids are handed out in commit
-- order (SQLite has one writer at a time), so
-- a consumer reading `id > cursor` never skips one.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    -- What the event is about (`article:42`): deliveries coalesce by it.
    subject TEXT NOT NULL,
    -- JSON: the public object, or {id, slug} for a deletion.
    data TEXT NOT NULL,
    -- JSON array of CDN surrogate keys to purge.
    purge_keys TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_type_idx ON events (type, id);

-- Scheduled articles (published, with a future published_at) whose
-- `article.published` has not fired yet. The scheduler claims a due row by
-- deleting it and emits the event in that transaction, so it fires once;
-- a save that publishes, unpublishes or reschedules the article deletes or
-- replaces the row. Articles already public when this table arrives count
-- as announced; those still in the future wait for their time.
CREATE TABLE scheduled_articles (
    article_id BIGINT PRIMARY KEY NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    publish_at TIMESTAMP NOT NULL
);
CREATE INDEX scheduled_articles_due_idx ON scheduled_articles (publish_at, article_id);
INSERT INTO scheduled_articles (article_id, publish_at)
    SELECT id, published_at FROM articles
    WHERE status = 'published' AND published_at > datetime('now');

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    -- JSON array of event types, or ["*"].
    events TEXT NOT NULL,
    -- whsec_<base64>: the signing key, needed in clear to sign.
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    -- The last event this webhook's deliveries were made from.
    last_event_id BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- JSON array: the union of the coalesced events' keys.
    purge_keys TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    response_status INTEGER,
    duration_ms BIGINT,
    error TEXT,
    next_attempt_at TIMESTAMP,
    -- Set while one instance sends the attempt; others leave it alone.
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (webhook_id, subject, event_type, id);
