/**
 * The first dependency cycle in a graph (name -> the names it depends on), as a path that ends where
 * it starts (`["a", "b", "a"]`), or null. Depth-first with three colours.
 */
export function findCycle(graph: Map<string, readonly string[]>): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    const s = state.get(n);
    if (s === 2) return null;
    if (s === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of [...graph.keys()].sort()) {
    const found = visit(n);
    if (found) return found;
  }
  return null;
}
