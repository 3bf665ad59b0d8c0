import { createHash } from 'node:crypto';

/** How much an instance wants a lane: a stable pseudo-random score (rendezvous hashing). */
function score(instance: string, lane: number): number {
  return createHash('md5').update(`${instance}\u001f${lane}`).digest().readUIntBE(0, 6);
}

/**
 * Which lanes each live instance should hold: rendezvous hashing with bounded load. Every instance
 * computes the same answer from the same list of live instances, with no message between them. Each lane
 * goes to the instance that scores it highest among those not yet holding their fair share (floor(lanes /
 * instances), one more for the first lanes % instances instances to reach it), so shares differ by at most
 * one lane, and when an instance joins or leaves, only a little more than lanes / instances lanes change
 * hands. One instance alone gets every lane.
 */
export function assignLanes(instances: readonly string[], lanes: number): Map<string, number[]> {
  const ids = [...new Set(instances)].sort();
  const out = new Map(ids.map((id) => [id, [] as number[]]));
  if (ids.length === 0) return out;
  const floor = Math.floor(lanes / ids.length);
  let extra = lanes % ids.length;
  const room = (n: number) => n < floor || (n === floor && extra > 0);
  for (let lane = 0; lane < lanes; lane++) {
    const ranked = ids
      .map((id) => ({ id, s: score(id, lane) }))
      .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
    const to = out.get(ranked.find((r) => room(out.get(r.id)!.length))!.id)!;
    if (to.length === floor) extra--;
    to.push(lane);
  }
  return out;
}
