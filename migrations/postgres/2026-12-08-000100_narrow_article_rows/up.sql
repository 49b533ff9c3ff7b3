-- A page's tags in display order from one covering index,
-- `(article_id, position, tag_id)`, instead of a look-up of every link
-- row and a sort. (PostgreSQL keeps long texts out of line already: the
-- SQLite migration of this name also moves them to the end of the row.)
CREATE INDEX article_tags_article_idx ON article_tags (article_id, position, tag_id);
