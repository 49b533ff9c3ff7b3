-- SQLite cannot drop a column that references another table: the column
-- stays, emptied, and the library goes.
DROP INDEX articles_feature_image_idx;
UPDATE articles SET feature_image_id = NULL;
DROP TABLE media;
