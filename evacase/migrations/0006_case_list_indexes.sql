-- ListCases reads a filtered page from the filter's own index, in (filter value, ID) order (see
-- services/case_list.py: the filter is written as a range and a row comparison, so no other index can give the
-- order and no plan, custom or generic, walks all cases by ID). The per-filter indexes become (value, id),
-- both ascending, read backwards for newest first.
DROP INDEX cases_list_customer_idx;
DROP INDEX cases_list_assignee_idx;
DROP INDEX cases_list_status_idx;
DROP INDEX cases_list_topic_idx;
DROP INDEX cases_list_priority_idx;
DROP INDEX cases_list_assigned_unit_idx;
DROP INDEX cases_list_originating_unit_idx;
DROP INDEX cases_list_order_idx;
DROP INDEX cases_list_backend_idx;
DROP INDEX cases_list_external_order_idx;
CREATE INDEX cases_list_customer_idx ON cases (customer_id, id) WHERE NOT is_archived;
CREATE INDEX cases_list_assignee_idx ON cases (assignee_id, id) WHERE NOT is_archived;
-- Status and topic: all cases, replacing the single-column indexes (which served "in use" checks and the
-- foreign keys, and invited a plan reading every case of a status to sort them).
DROP INDEX cases_topic_idx;
DROP INDEX cases_status_idx;
CREATE INDEX cases_list_status_idx ON cases (status_id, id);
CREATE INDEX cases_list_topic_idx ON cases (topic_id, id);
CREATE INDEX cases_list_priority_idx ON cases (priority, id) WHERE NOT is_archived;
CREATE INDEX cases_list_assigned_unit_idx ON cases (assigned_organization_unit_id, id) WHERE NOT is_archived;
CREATE INDEX cases_list_originating_unit_idx ON cases (originating_organization_unit_id, id) WHERE NOT is_archived;
CREATE INDEX cases_list_order_idx ON cases (order_id, id) WHERE NOT is_archived;
CREATE INDEX cases_list_backend_idx ON cases (backend_id, id) WHERE NOT is_archived;
CREATE INDEX cases_list_external_order_idx ON cases (external_order_identifier, id) WHERE NOT is_archived;

-- "Contains" on case titles (ListCases and CustomerListCases Title) is served by a trigram index instead of
-- reading every case (or every case of the customer). pg_trgm ships with PostgreSQL and is a trusted extension:
-- the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_title_trgm_idx ON cases USING gin (title gin_trgm_ops);

-- Repairs (no-ops elsewhere): a database that ran migration 0005 before that migration gained the visibility
-- function and the system user (while issue 12 was under way) gets them now.
CREATE OR REPLACE FUNCTION visible_to_units(unit bigint, units bigint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT units IS NULL OR unit IS NULL OR unit = ANY (units) $$;
INSERT INTO users (id, user_type, first_name) VALUES (1000000000000000, 17, 'evacase') ON CONFLICT (id) DO NOTHING;

UPDATE schema_version SET version = 6;
