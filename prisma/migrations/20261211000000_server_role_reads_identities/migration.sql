-- Every token is resolved through user_identities (src/db/registry-source.ts), and just-in-time users
-- and `cli user add --subject` write to it: the least-privilege server role needs it like the other
-- shared tables (20261201120000_least_privilege_server_role), or every request answers UNAVAILABLE.
GRANT SELECT, INSERT, UPDATE, DELETE ON user_identities TO tenantgraph_server;
CREATE POLICY system_path ON user_identities TO tenantgraph_server USING (true) WITH CHECK (true);
