DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE scheduled_articles;
DROP TABLE events;
