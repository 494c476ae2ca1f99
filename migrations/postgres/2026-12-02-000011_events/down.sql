DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE event_cursors;
DROP TABLE event_marks;
DROP TABLE events;
