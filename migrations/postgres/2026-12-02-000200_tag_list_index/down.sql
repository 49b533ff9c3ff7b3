DROP INDEX article_tags_visible_idx;
CREATE INDEX article_tags_visible_idx ON article_tags (tag_id, article_status, article_published_at);
