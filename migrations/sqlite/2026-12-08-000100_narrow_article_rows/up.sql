-- Article rows with their three long texts last.
--
-- SQLite stores a row's columns in table order and spills what does not
-- fit its page onto a chain of overflow pages. With `body`, `body_html`
-- and `body_text` in the middle of the row, reading `view_count` or
-- `author_id` for a list item walked through every page of the body first.
-- Rebuilt with the long texts at the end, a list item's columns sit at
-- the head of the row. The same table, indices and triggers otherwise
-- (SQLite's documented way to change a table's layout: build the new
-- table, copy, drop the old one, rename); the ids and the AUTOINCREMENT
-- counter are kept. Run outside diesel's transaction because
-- `foreign_keys` cannot be switched inside one; it opens its own.
--
-- Also: a page's tags in display order from one covering index,
-- `(article_id, position, tag_id)`, instead of a look-up of every link
-- row and a sort.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE IF EXISTS articles_new;
DROP TRIGGER article_tags_copy_visibility;
CREATE TABLE articles_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    subtitle TEXT,
    custom_excerpt TEXT,
    excerpt TEXT NOT NULL,
    body_format TEXT NOT NULL CHECK (body_format IN ('markdown', 'html')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    feature_image TEXT,
    reading_time_minutes INTEGER NOT NULL DEFAULT 1,
    comments_enabled BOOLEAN NOT NULL DEFAULT 1,
    meta_title TEXT,
    meta_description TEXT,
    canonical_url TEXT,
    author_id INTEGER NOT NULL REFERENCES users (id),
    view_count BIGINT NOT NULL DEFAULT 0,
    comment_count BIGINT NOT NULL DEFAULT 0,
    feature_image_id INTEGER REFERENCES media (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL
);
INSERT INTO articles_new (id, slug, title, subtitle, custom_excerpt, excerpt, body_format, status,
    published_at, created_at, updated_at, version, feature_image, reading_time_minutes,
    comments_enabled, meta_title, meta_description, canonical_url, author_id, view_count,
    comment_count, feature_image_id, body, body_html, body_text)
SELECT id, slug, title, subtitle, custom_excerpt, excerpt, body_format, status,
    published_at, created_at, updated_at, version, feature_image, reading_time_minutes,
    comments_enabled, meta_title, meta_description, canonical_url, author_id, view_count,
    comment_count, feature_image_id, body, body_html, body_text
FROM articles ORDER BY id;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'articles')
WHERE name = 'articles_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'articles');
DROP TABLE articles;
ALTER TABLE articles_new RENAME TO articles;
CREATE INDEX articles_status_published_idx ON articles (status, published_at, id);
CREATE INDEX articles_status_updated_idx ON articles (status, updated_at, id);
CREATE INDEX articles_status_title_idx ON articles (status, title, id);
CREATE INDEX articles_status_views_idx ON articles (status, view_count, id);
CREATE INDEX articles_status_comments_idx ON articles (status, comment_count, id);
CREATE INDEX articles_author_idx ON articles (author_id, status, published_at, id);
CREATE INDEX articles_published_idx ON articles (published_at, id);
CREATE INDEX articles_updated_idx ON articles (updated_at, id);
CREATE INDEX articles_title_idx ON articles (title, id);
CREATE INDEX articles_views_idx ON articles (view_count, id);
CREATE INDEX articles_comments_idx ON articles (comment_count, id);
CREATE INDEX articles_feature_image_idx ON articles (feature_image_id);
CREATE INDEX articles_sitemap_idx ON articles (status, id, published_at, updated_at, version);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, excerpt, body_text)
    VALUES (new.id, new.title, new.excerpt, new.body_text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, body_text)
    VALUES ('delete', old.id, old.title, old.excerpt, old.body_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, excerpt, body_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, body_text)
    VALUES ('delete', old.id, old.title, old.excerpt, old.body_text);
    INSERT INTO articles_fts (rowid, title, excerpt, body_text)
    VALUES (new.id, new.title, new.excerpt, new.body_text);
END;
CREATE TRIGGER articles_visibility_to_tags AFTER UPDATE OF status, published_at ON articles
WHEN old.status IS NOT new.status OR old.published_at IS NOT new.published_at BEGIN
    UPDATE article_tags SET article_status = new.status, article_published_at = new.published_at
    WHERE article_id = new.id;
END;
CREATE TRIGGER article_tags_copy_visibility AFTER INSERT ON article_tags BEGIN
    UPDATE article_tags SET
        article_status = (SELECT status FROM articles WHERE articles.id = new.article_id),
        article_published_at = (SELECT published_at FROM articles WHERE articles.id = new.article_id)
    WHERE article_id = new.article_id AND tag_id = new.tag_id;
END;
CREATE INDEX IF NOT EXISTS article_tags_article_idx ON article_tags (article_id, position, tag_id);
COMMIT;
PRAGMA foreign_keys = ON;
