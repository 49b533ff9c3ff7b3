-- Bumped when a password changes: access tokens carry the version they
-- were issued at, and an older one is refused at once.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
