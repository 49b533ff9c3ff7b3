DROP INDEX articles_feature_image_idx;
ALTER TABLE articles DROP COLUMN feature_image_id;
DROP TABLE media;
