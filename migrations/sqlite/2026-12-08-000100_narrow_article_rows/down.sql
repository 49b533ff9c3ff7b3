-- The column order is physical only (every query names its columns):
-- the earlier layout is not restored.
DROP INDEX IF EXISTS article_tags_article_idx;
