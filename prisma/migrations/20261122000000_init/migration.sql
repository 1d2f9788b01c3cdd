-- tenantgraph initial schema.
--
-- Isolation has two halves here:
--   * composite foreign keys: a tenant-owned row can only reference rows of its own tenant;
--   * row-level security: every tenant-owned table is ENABLE + FORCE RLS with a policy on
--     current_setting('app.tenant_id'), which the server sets per transaction (set_config(..., true))
--     after switching to tenantgraph_tenant, a role that cannot bypass RLS.
-- Shared tables (tenants, users, memberships) enable RLS without FORCE: the trusted system path
-- (tenant registry, CLI) runs as the owner and must see across tenants; the tenant role sees only
-- its own tenant's rows there too.

DO $$
BEGIN
  -- Roles are cluster-wide: several databases (tests, instances) may race to create it.
  CREATE ROLE tenantgraph_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- Lets a non-superuser connection role `SET LOCAL ROLE tenantgraph_tenant`.
GRANT tenantgraph_tenant TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO tenantgraph_tenant;

CREATE TYPE "TenantStatus" AS ENUM ('ACTIVE', 'SUSPENDED');
CREATE TYPE "Role" AS ENUM ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER');
CREATE TYPE "TaskStatus" AS ENUM ('TODO', 'IN_PROGRESS', 'DONE');

-- Shared tables -------------------------------------------------------------------------------

CREATE TABLE tenants (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug       text NOT NULL,
  name       text NOT NULL,
  status     "TenantStatus" NOT NULL DEFAULT 'ACTIVE',
  plan       text NOT NULL DEFAULT 'free',
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);

CREATE TABLE users (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email      text NOT NULL,
  name       text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       "Role" NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

-- Tenant-owned tables -------------------------------------------------------------------------

CREATE TABLE projects (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL,
  description text,
  archived    boolean NOT NULL DEFAULT false,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_tenant_id_id_key ON projects (tenant_id, id);
CREATE INDEX projects_tenant_id_created_at_id_idx ON projects (tenant_id, created_at, id);

CREATE TABLE tasks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  project_id  uuid NOT NULL,
  title       text NOT NULL,
  status      "TaskStatus" NOT NULL DEFAULT 'TODO',
  assignee_id uuid REFERENCES users (id),
  due_at      timestamptz(3),
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  -- The assignee must be a member of the task's own tenant; leaving the tenant unassigns.
  FOREIGN KEY (tenant_id, assignee_id) REFERENCES memberships (tenant_id, user_id) ON DELETE SET NULL (assignee_id)
);
CREATE UNIQUE INDEX tasks_tenant_id_id_key ON tasks (tenant_id, id);
CREATE INDEX tasks_tenant_id_project_id_created_at_id_idx ON tasks (tenant_id, project_id, created_at, id);
CREATE INDEX tasks_tenant_id_assignee_id_idx ON tasks (tenant_id, assignee_id);

CREATE TABLE comments (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  task_id    uuid NOT NULL,
  author_id  uuid NOT NULL REFERENCES users (id),
  body       text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX comments_tenant_id_id_key ON comments (tenant_id, id);
CREATE INDEX comments_tenant_id_task_id_created_at_id_idx ON comments (tenant_id, task_id, created_at, id);

-- Row-level security --------------------------------------------------------------------------
-- NULLIF(...)::uuid: an unset or empty app.tenant_id matches nothing, so a missing context fails closed.

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memberships
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- A tenant sees the users who are its members, and no one else.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
  USING (EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.user_id = users.id
      AND m.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
  ));

ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON projects
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tasks
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE comments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON comments
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Privileges of the tenant role: read its own shared rows, read and write its own tenant rows.
GRANT SELECT ON tenants, users, memberships TO tenantgraph_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, tasks, comments TO tenantgraph_tenant;
