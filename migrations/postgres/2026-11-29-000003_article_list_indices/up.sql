-- Lists order published_at with NULLs (drafts never published) first when
-- ascending and last when descending, as SQLite does natively. PostgreSQL
-- needs the indices declared with that NULL order to read them in order.
DROP INDEX articles_status_published_idx;
CREATE INDEX articles_status_published_idx ON articles (status, published_at NULLS FIRST, id);
DROP INDEX articles_published_idx;
CREATE INDEX articles_published_idx ON articles (published_at NULLS FIRST, id);
DROP INDEX articles_author_idx;
CREATE INDEX articles_author_idx ON articles (author_id, status, published_at NULLS FIRST, id);

-- Editors list every status: each sort needs an index without the leading
-- status column, so that no list sorts the whole table.
CREATE INDEX articles_updated_idx ON articles (updated_at, id);
CREATE INDEX articles_title_idx ON articles (title, id);
CREATE INDEX articles_views_idx ON articles (view_count, id);
CREATE INDEX articles_comments_idx ON articles (comment_count, id);
-- Deleting a user sets editor_id to NULL on their revisions.
CREATE INDEX article_revisions_editor_idx ON article_revisions (editor_id);
