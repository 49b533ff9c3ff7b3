DROP INDEX article_revisions_editor_idx;
DROP INDEX articles_comments_idx;
DROP INDEX articles_views_idx;
DROP INDEX articles_title_idx;
DROP INDEX articles_updated_idx;
