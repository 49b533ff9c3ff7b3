-- Old URLs (from an import, or added by hand) and where they lead now:
-- an article (its current public URL, whatever its slug becomes) or a
-- fixed location. The redirect resolver reads this and slug_redirects.
CREATE TABLE redirects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_path TEXT NOT NULL UNIQUE,
    article_id INTEGER REFERENCES articles (id) ON DELETE CASCADE,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    CHECK ((article_id IS NULL) <> (location IS NULL))
);
CREATE INDEX redirects_article_idx ON redirects (article_id);

-- What an import made from which source row, so that importing the same
-- file again changes nothing.
CREATE TABLE imports (
    source TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'tag', 'article', 'comment')),
    source_id TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, kind, source_id)
);
CREATE INDEX imports_target_idx ON imports (kind, target_id);
