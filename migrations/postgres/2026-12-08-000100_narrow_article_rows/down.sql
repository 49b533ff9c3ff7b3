DROP INDEX IF EXISTS article_tags_article_idx;
