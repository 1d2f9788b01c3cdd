import { defineConfig } from 'prisma/config';

// Only `prisma generate` is used: migrations are plain SQL applied by src/db/migrator.ts, so the
// CLI never needs a database URL or its schema-engine binary.
export default defineConfig({
  schema: 'prisma/schema.prisma',
});
