DROP INDEX articles_sitemap_idx;
