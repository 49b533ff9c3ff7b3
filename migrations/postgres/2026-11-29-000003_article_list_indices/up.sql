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

-- A tag's article_count counts the articles visible *now*, which changes
-- with the clock (scheduled articles) and cannot be stored. Each link
-- carries a copy of its article's status and published_at, kept by
-- triggers, so that the count is a range count on one covering index
-- instead of a lookup of every linked article.
ALTER TABLE article_tags ADD COLUMN article_status TEXT NOT NULL DEFAULT 'draft';
ALTER TABLE article_tags ADD COLUMN article_published_at TIMESTAMP;
UPDATE article_tags SET article_status = a.status, article_published_at = a.published_at
FROM articles a WHERE a.id = article_tags.article_id;
CREATE INDEX article_tags_visible_idx ON article_tags (tag_id, article_status, article_published_at);

CREATE FUNCTION article_tags_copy_visibility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT status, published_at INTO NEW.article_status, NEW.article_published_at
    FROM articles WHERE id = NEW.article_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER article_tags_copy_visibility BEFORE INSERT ON article_tags
FOR EACH ROW EXECUTE FUNCTION article_tags_copy_visibility();

CREATE FUNCTION articles_visibility_to_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET article_status = NEW.status, article_published_at = NEW.published_at
    WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_visibility_to_tags AFTER UPDATE OF status, published_at ON articles
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.published_at IS DISTINCT FROM NEW.published_at)
EXECUTE FUNCTION articles_visibility_to_tags();
