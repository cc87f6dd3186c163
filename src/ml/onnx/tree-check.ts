// Structure check of tree ensembles in a decoded graph, so a damaged tree cannot make onnxruntime loop.
import { attr, num, utf8 } from "./graph-info.ts";
import type { GraphProto } from "./proto.ts";

// Subgraph nesting followed when looking for tree ensembles (If/Loop bodies); deeper is refused.
const MAX_GRAPH_DEPTH = 8;

/**
 * Why the tree ensembles of a graph cannot be run safely, or undefined. onnxruntime follows child ids as
 * given, so a damaged file whose tree loops back on itself would make classify() spin for ever: every
 * branch must point at an existing node of its own tree and no path may come back to a node.
 */
export function treeProblem(graph: GraphProto, depth = 0): string | undefined {
  if (depth > MAX_GRAPH_DEPTH) return "subgraphs nest too deep";
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      for (const sub of [a.g, ...(a.graphs ?? [])]) {
        const p = sub ? treeProblem(sub, depth + 1) : undefined;
        if (p) return p;
      }
    }
    if (
      n.opType !== "TreeEnsembleClassifier" &&
      n.opType !== "TreeEnsembleRegressor" &&
      n.opType !== "TreeEnsemble"
    ) {
      continue;
    }
    const ints = (name: string) => (attr(n, name)?.ints ?? []).map(num);
    const children: number[][] = [];
    if (n.opType === "TreeEnsemble") {
      // ai.onnx.ml 5: nodes indexed by position, a child is a node unless its *_leafs flag says leaf.
      const t = ints("nodes_truenodeids");
      const f = ints("nodes_falsenodeids");
      const tl = ints("nodes_trueleafs");
      const fl = ints("nodes_falseleafs");
      if (t.length !== f.length || tl.length !== t.length || fl.length !== t.length)
        return "tree node lists differ in length";
      for (let i = 0; i < t.length; i++) {
        const next = [];
        if (!tl[i]) next.push(t[i]);
        if (!fl[i]) next.push(f[i]);
        for (const c of next)
          if (!(c >= 0 && c < t.length)) return `tree node ${i} points at missing node ${c}`;
        children.push(next);
      }
    } else {
      const tree = ints("nodes_treeids");
      const id = ints("nodes_nodeids");
      const t = ints("nodes_truenodeids");
      const f = ints("nodes_falsenodeids");
      const modes = (attr(n, "nodes_modes")?.strings ?? []).map((b) => utf8.decode(b));
      const count = tree.length;
      if (id.length !== count || t.length !== count || f.length !== count || modes.length !== count) {
        return "tree node lists differ in length";
      }
      const index = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const key = `${tree[i]}:${id[i]}`;
        if (index.has(key)) return `tree ${tree[i]} declares node ${id[i]} twice`;
        index.set(key, i);
      }
      for (let i = 0; i < count; i++) {
        if (modes[i] === "LEAF") {
          children.push([]);
          continue;
        }
        const next = [index.get(`${tree[i]}:${t[i]}`), index.get(`${tree[i]}:${f[i]}`)];
        if (next[0] === undefined || next[1] === undefined)
          return `tree ${tree[i]} node ${id[i]} points at a missing node`;
        children.push(next as number[]);
      }
    }
    // Iterative depth-first search with colours: 1 on the current path, 2 done; a grey child is a loop.
    const colour = new Uint8Array(children.length);
    for (let s = 0; s < children.length; s++) {
      if (colour[s]) continue;
      const stack: [number, number][] = [[s, 0]];
      colour[s] = 1;
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const [v, k] = top;
        if (k < children[v].length) {
          top[1]++;
          const c = children[v][k];
          if (colour[c] === 1) return "a tree loops back on itself";
          if (colour[c] === 0) {
            colour[c] = 1;
            stack.push([c, 0]);
          }
        } else {
          colour[v] = 2;
          stack.pop();
        }
      }
    }
  }
  return undefined;
}
