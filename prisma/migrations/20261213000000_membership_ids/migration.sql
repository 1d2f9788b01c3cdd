-- Query.members is a connection: a tenant's members come a page at a time, however many it has,
-- instead of every membership (and its user) in one answer. A page is found by its cursor, and
-- every paged row here is named by a UUID id of its own (src/schema/shared/cursor.ts): memberships
-- get one, filled in for the rows already there. The key stays (tenant_id, user_id).
ALTER TABLE memberships ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX memberships_id_key ON memberships (id);
-- The page's order (oldest membership first), within one tenant: a page is an index range.
CREATE INDEX memberships_tenant_id_created_at_id_idx ON memberships (tenant_id, created_at, id);
