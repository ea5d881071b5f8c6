-- Schema version 7: an index for "when did a run first see this resource?", asked once per
-- resource type and region by scope filters on age (older_than, newer_than) for the types
-- whose listing gives no creation time. Without it that question reads the whole log.

CREATE INDEX events_first_seen ON events (kind, region, service, resource_type, resource_id, at);
