DROP TABLE article_daily_stats;
DROP TABLE comments;
DROP TABLE slug_redirects;
DROP TABLE article_revisions;
DROP TABLE article_tags;
DROP TABLE tags;
DROP TABLE articles;
