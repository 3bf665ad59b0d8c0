// This machine's npm registry serves only the linux-x64 builds of packages with per-platform binaries
// (e.g. @rollup/rollup-darwin-arm64 answers 404), so `npm install` writes a lock without those optional
// entries, and `npm ci` then refuses the lock as out of sync. This drops optionalDependencies that have
// no entry in the lock, making it self-consistent. Run after changing dependencies: `npm run lock:prune`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
let pruned = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!entry.optionalDependencies) continue;
  for (const name of Object.keys(entry.optionalDependencies)) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`]) {
      delete entry.optionalDependencies[name];
      pruned++;
    }
  }
  if (Object.keys(entry.optionalDependencies).length === 0) delete entry.optionalDependencies;
}
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`prune-lock: removed ${pruned} optional entries with no lock record`);
