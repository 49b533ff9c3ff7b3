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
UPDATE article_tags SET
    article_status = (SELECT status FROM articles WHERE articles.id = article_tags.article_id),
    article_published_at = (SELECT published_at FROM articles WHERE articles.id = article_tags.article_id);
CREATE INDEX article_tags_visible_idx ON article_tags (tag_id, article_status, article_published_at);
CREATE TRIGGER article_tags_copy_visibility AFTER INSERT ON article_tags BEGIN
    UPDATE article_tags SET
        article_status = (SELECT status FROM articles WHERE articles.id = new.article_id),
        article_published_at = (SELECT published_at FROM articles WHERE articles.id = new.article_id)
    WHERE article_id = new.article_id AND tag_id = new.tag_id;
END;
CREATE TRIGGER articles_visibility_to_tags AFTER UPDATE OF status, published_at ON articles
WHEN old.status IS NOT new.status OR old.published_at IS NOT new.published_at BEGIN
    UPDATE article_tags SET article_status = new.status, article_published_at = new.published_at
    WHERE article_id = new.id;
END;
