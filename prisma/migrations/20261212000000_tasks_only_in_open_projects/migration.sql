-- A task is created only in a project that is not archived, and the insert itself checks it: createTask
-- is one statement instead of a lookup and then an insert (src/schema/task/task.mutations.ts), and a
-- project archived between the two can no longer receive a task. The composite foreign key
-- (tenant_id, project_id) already refuses a project that is not the tenant's, or not there.
-- SECURITY INVOKER (the default): the lookup runs as the inserting role, under its row-level security.
CREATE FUNCTION tasks_refuse_archived_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM projects WHERE tenant_id = NEW.tenant_id AND id = NEW.project_id AND archived) THEN
    -- A code of our own, so that the server can tell this refusal from any other.
    RAISE EXCEPTION 'the project is archived' USING ERRCODE = 'TGA01';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER tasks_refuse_archived_project
  BEFORE INSERT ON tasks
  FOR EACH ROW EXECUTE FUNCTION tasks_refuse_archived_project();
