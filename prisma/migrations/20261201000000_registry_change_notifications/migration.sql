-- Every change to who may do what — a tenant suspended, renamed or deleted; a membership added,
-- changed or removed; a user renamed or deleted; any of these tables truncated — is announced on the
-- channel the servers LISTEN on, at commit, whoever made it: the CLI, another instance, or SQL
-- typed by an operator. The servers' registry caches then trust an answer for as long as they keep
-- hearing the channel, and drop what a change touches within milliseconds. (Only what runs with
-- triggers disabled — `session_replication_role = replica`, a restore — is not announced: after such
-- a change, restart the servers or wait REGISTRY_PUSHED_TTL_MS.)

-- What one row of `table_name` names, as the registry's invalidations take it.
CREATE FUNCTION tenantgraph_registry_change(table_name text, changed jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE table_name
    WHEN 'tenants' THEN jsonb_build_object('tenantId', changed->>'id', 'slug', changed->>'slug')
    WHEN 'memberships' THEN jsonb_build_object('tenantId', changed->>'tenant_id', 'userId', changed->>'user_id')
    ELSE jsonb_build_object('userId', changed->>'id')
  END)::text
$$;

-- The row before and the row after: an update that moves a membership to another user or tenant
-- invalidates both. (PostgreSQL sends identical notifications of one transaction once.)
CREATE FUNCTION tenantgraph_announce_registry_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('tenantgraph_registry', tenantgraph_registry_change(TG_TABLE_NAME, to_jsonb(OLD)));
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM pg_notify('tenantgraph_registry', tenantgraph_registry_change(TG_TABLE_NAME, to_jsonb(NEW)));
  END IF;
  RETURN NULL;
END;
$$;

-- TRUNCATE names no rows: every cached answer goes.
CREATE FUNCTION tenantgraph_announce_registry_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tenantgraph_registry', '{"all": true}');
  RETURN NULL;
END;
$$;

-- Inserts too: a registry caches "no such tenant" and "not a member" as well as the answers that admit.
CREATE TRIGGER tenants_announce_change AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenantgraph_announce_registry_change();
CREATE TRIGGER memberships_announce_change AFTER INSERT OR UPDATE OR DELETE ON memberships
  FOR EACH ROW EXECUTE FUNCTION tenantgraph_announce_registry_change();
CREATE TRIGGER users_announce_change AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION tenantgraph_announce_registry_change();

CREATE TRIGGER tenants_announce_truncate AFTER TRUNCATE ON tenants
  FOR EACH STATEMENT EXECUTE FUNCTION tenantgraph_announce_registry_truncate();
CREATE TRIGGER memberships_announce_truncate AFTER TRUNCATE ON memberships
  FOR EACH STATEMENT EXECUTE FUNCTION tenantgraph_announce_registry_truncate();
CREATE TRIGGER users_announce_truncate AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION tenantgraph_announce_registry_truncate();
