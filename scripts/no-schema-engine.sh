#!/bin/sh
echo "tenantgraph: the Prisma schema engine is not used here; migrations are plain SQL (npm run migrate)" >&2
exit 1
