-- Every change to who may do what — a tenant suspended, renamed or deleted; a membership added,
-- changed or removed; a user renamed or deleted — is announced on the channel the servers LISTEN
-- on, at commit, whoever made it: the CLI, another instance, or SQL typed by an operator. The
-- servers' registry caches then trust an answer for as long as they keep hearing the channel, and
-- drop what a change touches within milliseconds.

CREATE FUNCTION tenantgraph_announce_registry_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
  PERFORM pg_notify('tenantgraph_registry', CASE TG_TABLE_NAME
    WHEN 'tenants' THEN jsonb_build_object('tenantId', changed->>'id', 'slug', changed->>'slug')
    WHEN 'memberships' THEN jsonb_build_object('tenantId', changed->>'tenant_id', 'userId', changed->>'user_id')
    ELSE jsonb_build_object('userId', changed->>'id')
  END::text);
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
