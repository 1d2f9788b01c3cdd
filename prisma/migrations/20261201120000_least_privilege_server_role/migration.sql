-- The server need not own the schema. Migrations run as the owner (`npm run migrate`); the server
-- can log in as any role granted `tenantgraph_server`, which carries exactly what it needs:
--   * the system path (tenant registry, administration CLI) reads and writes the shared tables
--     across tenants — their RLS is enabled but not FORCEd, which exempts only their owner, so it
--     gets policies of its own there;
--   * it reads the migrations' bookkeeping (the read-only check at start);
--   * it may switch to tenantgraph_tenant for tenant statements. NOINHERIT: membership lets it
--     SET ROLE, but a login role granted tenantgraph_server does not hold the tenant role's
--     privileges itself. It has no privilege on tenant-owned tables.

DO $$
BEGIN
  CREATE ROLE tenantgraph_server NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

GRANT tenantgraph_tenant TO tenantgraph_server;
GRANT USAGE ON SCHEMA public TO tenantgraph_server;
GRANT SELECT ON _tenantgraph_migrations TO tenantgraph_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, memberships TO tenantgraph_server;

CREATE POLICY system_path ON tenants TO tenantgraph_server USING (true) WITH CHECK (true);
CREATE POLICY system_path ON users TO tenantgraph_server USING (true) WITH CHECK (true);
CREATE POLICY system_path ON memberships TO tenantgraph_server USING (true) WITH CHECK (true);
