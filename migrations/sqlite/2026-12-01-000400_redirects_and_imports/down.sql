DROP TABLE imports;
DROP TABLE redirects;
