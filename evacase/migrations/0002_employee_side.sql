-- 0002: what the employee-side services need.
-- Case statuses may name an EVA Script (a reference only: scripts are not modelled here).
ALTER TABLE case_statuses ADD COLUMN script_id bigint;
-- Topic names are unique among the live children of one parent (case-insensitively); a deleted topic's name
-- can be used again.
CREATE UNIQUE INDEX case_topics_sibling_name_unique ON case_topics (coalesce(parent_id, 0), lower(name))
    WHERE NOT is_deleted;
-- A topic's display path, root first: `Shipping / Late delivery`.
CREATE FUNCTION topic_path(topic bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(a.name, ' / ' ORDER BY a.depth DESC) FROM topic_ancestry(topic) a
$$;
-- Organization units, a small reference table (EVA's IDs): names for cases' units, units by BackendID.
CREATE TABLE organization_units (
    id bigint PRIMARY KEY CONSTRAINT organization_units_id_positive CHECK (id > 0),
    backend_id text CONSTRAINT organization_units_backend_id_unique UNIQUE,
    name text NOT NULL CONSTRAINT organization_units_name_length CHECK (char_length(name) BETWEEN 1 AND 200)
);
-- Employee services take titles up to 255 characters (customers' up to 200): the database allows the widest.
ALTER TABLE cases DROP CONSTRAINT cases_title_length;
ALTER TABLE cases ADD CONSTRAINT cases_title_length CHECK (char_length(title) BETWEEN 1 AND 255);
ALTER TABLE cases ADD COLUMN external_order_identifier text;
-- ListCases: newest first (by ID, which follows creation), archived cases left out; one index per filter.
CREATE INDEX cases_list_idx ON cases (id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_customer_idx ON cases (customer_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_assignee_idx ON cases (assignee_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_status_idx ON cases (status_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_topic_idx ON cases (topic_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_priority_idx ON cases (priority, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_assigned_unit_idx ON cases (assigned_organization_unit_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_originating_unit_idx ON cases (originating_organization_unit_id, id DESC)
    WHERE NOT is_archived;
CREATE INDEX cases_list_order_idx ON cases (order_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_backend_idx ON cases (backend_id, id DESC) WHERE NOT is_archived;
CREATE INDEX cases_list_external_order_idx ON cases (external_order_identifier, id DESC) WHERE NOT is_archived;
-- An interaction's BackendID is unique within its case (PushCase upserts interactions by it).
CREATE UNIQUE INDEX interactions_backend_id_unique ON interactions (case_id, backend_id) WHERE backend_id IS NOT NULL;
