import { createDataSource } from '/work/wt/i3/src/db/data-source';
import { poolOf } from '/work/wt/i3/src/db/pool';
import { addCapture } from '/work/wt/i3/src/capture/triggers';
async function main() {
  const ds = createDataSource({ url: 'postgres://postgres@127.0.0.1:5432/i3_try', poolSize: 4 });
  await ds.initialize();
  await addCapture(poolOf(ds), { table: 'acc' });
  await ds.destroy();
}
main();
