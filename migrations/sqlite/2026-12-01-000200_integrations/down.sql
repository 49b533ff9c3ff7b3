DROP TABLE article_previews;
DROP TABLE integrations;
