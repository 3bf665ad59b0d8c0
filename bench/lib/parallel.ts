/** Runs `work(i)` for i in [0, batches), `workers` at a time; returns the elapsed seconds. */
export async function timedBatches(
  batches: number,
  workers: number,
  work: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < batches; i = next++) await work(i);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}
