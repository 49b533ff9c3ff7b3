-- Sitemaps: the index's pages (id ranges of published articles, with their
-- last change) and each page's fingerprint are read from this index alone
-- (an index-only range scan), never from the article rows.
CREATE INDEX articles_sitemap_idx ON articles (status, id, published_at, updated_at, version);
