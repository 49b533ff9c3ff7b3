CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    subtitle TEXT,
    custom_excerpt TEXT,
    excerpt TEXT NOT NULL,
    body TEXT NOT NULL,
    body_format TEXT NOT NULL CHECK (body_format IN ('markdown', 'html')),
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
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
    comment_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX articles_status_published_idx ON articles (status, published_at, id);
CREATE INDEX articles_status_updated_idx ON articles (status, updated_at, id);
CREATE INDEX articles_status_title_idx ON articles (status, title, id);
CREATE INDEX articles_status_views_idx ON articles (status, view_count, id);
CREATE INDEX articles_status_comments_idx ON articles (status, comment_count, id);
CREATE INDEX articles_author_idx ON articles (author_id, status, published_at, id);
CREATE INDEX articles_published_idx ON articles (published_at, id);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tags_name_idx ON tags (name, id);

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);

CREATE TABLE article_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    editor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    snapshot TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, version)
);

CREATE TABLE slug_redirects (
    slug TEXT PRIMARY KEY NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX slug_redirects_article_idx ON slug_redirects (article_id);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'spam')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_article_idx ON comments (article_id, status, created_at, id);
CREATE INDEX comments_status_idx ON comments (status, created_at, id);
CREATE INDEX comments_created_idx ON comments (created_at, id);
CREATE INDEX comments_author_idx ON comments (author_id);
CREATE INDEX comments_parent_idx ON comments (parent_id);

CREATE TABLE article_daily_stats (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    comments BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, day)
);
CREATE INDEX article_daily_stats_day_idx ON article_daily_stats (day, article_id, views, comments);

-- Full-text search: an external-content FTS5 index over the searchable text,
-- kept in sync by triggers. Counter updates do not touch it (UPDATE OF).
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, excerpt, body_text,
    content = 'articles', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
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
