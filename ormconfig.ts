// The data source for the typeorm CLI (`npx typeorm -d ormconfig.ts migration:show`).
// Sluice itself migrates with `sluice migrate`, which also takes the cross-process migration lock.
import { createDataSource } from './src/db/data-source';

export default createDataSource({
  url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:54329/sluice',
});
