-- Who a token names: an identity provider (`iss`) and its subject (`sub`), mapped to one of our
-- users. Providers' subjects are opaque strings (`auth0|65f…`, `user_2ab…`, `00u…`, digits), never
-- our ids: a user has any number of identities (one per provider during a migration, say), and an
-- identity belongs to exactly one user. The development signer needs no rows here: its tokens name
-- the user by id (see src/db/registry-source.ts); a row of its issuer is honoured all the same.
--
-- Subjects are stored the way the server compares them: exactly as the provider spells them, except
-- that a UUID is stored in lower case (as the server canonicalises one before looking it up).
CREATE TABLE user_identities (
  issuer     text NOT NULL,
  subject    text NOT NULL,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject),
  -- What a token may carry (src/tenancy/resolve-tenant.ts), so that a registered identity can be named.
  CONSTRAINT user_identities_issuer_length CHECK (char_length(issuer) BETWEEN 1 AND 512),
  CONSTRAINT user_identities_subject_length CHECK (char_length(subject) BETWEEN 1 AND 255)
);
CREATE INDEX user_identities_user_id_idx ON user_identities (user_id);

-- Shared like `users`: read by the trusted system path (registry, CLI). The tenant role is granted
-- nothing on it — no resolver needs a provider's subject — and should a grant ever be added, RLS
-- still limits it to the identities of the tenant's own members.
ALTER TABLE user_identities ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_identities
  USING (EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.user_id = user_identities.user_id
      AND m.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
  ));

-- An identity decides who a token is: adding one (a cached "no such user" goes), moving it to another
-- user, or removing it (access granted through it goes) is announced like any registry change.
CREATE OR REPLACE FUNCTION tenantgraph_registry_change(table_name text, changed jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE table_name
    WHEN 'tenants' THEN jsonb_build_object('tenantId', changed->>'id', 'slug', changed->>'slug')
    WHEN 'memberships' THEN jsonb_build_object('tenantId', changed->>'tenant_id', 'userId', changed->>'user_id')
    WHEN 'user_identities' THEN jsonb_build_object('issuer', changed->>'issuer', 'subject', changed->>'subject')
    ELSE jsonb_build_object('userId', changed->>'id')
  END)::text
$$;

CREATE TRIGGER user_identities_announce_change AFTER INSERT OR UPDATE OR DELETE ON user_identities
  FOR EACH ROW EXECUTE FUNCTION tenantgraph_announce_registry_change();
CREATE TRIGGER user_identities_announce_truncate AFTER TRUNCATE ON user_identities
  FOR EACH STATEMENT EXECUTE FUNCTION tenantgraph_announce_registry_truncate();
