-- A public tag page (`/articles?tag=x`, newest first) and its total are
-- read from the tag's links alone: the article id joins the index, so a
-- page is one backward range scan of it, never a walk over articles.
DROP INDEX article_tags_visible_idx;
CREATE INDEX article_tags_visible_idx ON article_tags (tag_id, article_status, article_published_at, article_id);
