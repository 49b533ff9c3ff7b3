-- The media library: one row per upload. Files are content-addressed by
-- `hash` (SHA-256 of the uploaded bytes), so several rows (the same picture
-- uploaded twice, each with its own alt text) may share one set of files.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes BIGINT NOT NULL,
    -- The rendition widths made, comma-separated ("320,640,1024").
    rendition_widths TEXT NOT NULL,
    alt TEXT NOT NULL,
    caption TEXT,
    credit TEXT,
    focal_x DOUBLE PRECISION,
    focal_y DOUBLE PRECISION,
    uploaded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_hash_idx ON media (hash);
CREATE INDEX media_created_idx ON media (created_at, id);
CREATE INDEX media_uploader_idx ON media (uploaded_by, created_at, id);

ALTER TABLE articles ADD COLUMN feature_image_id INTEGER REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX articles_feature_image_idx ON articles (feature_image_id);
