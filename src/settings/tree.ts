/** settings:tree — dotted keys drawn as a hierarchy with box-drawing lines, secrets marked. */

export interface TreeLeaf {
  key: string;
  /** What to show: the value, or a mask for an unrevealed secret. */
  shown: string;
  secret: boolean;
  /** The profile it came from, when it is not the base profile. */
  env?: string;
}

interface Node {
  name: string;
  leaf?: TreeLeaf;
  children: Map<string, Node>;
}

export interface TreeJson {
  [name: string]: { value?: string; secret?: boolean; env?: string; children?: TreeJson };
}

function build(leaves: TreeLeaf[]): Node {
  const root: Node = { name: "", children: new Map() };
  for (const leaf of leaves) {
    let node = root;
    for (const part of leaf.key.split(".")) {
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = { name: part, children: new Map() }));
      node = next;
    }
    node.leaf = leaf;
  }
  return root;
}

function label(n: Node): string {
  if (!n.leaf) return n.name;
  const tags = [n.leaf.secret ? "secret" : "", n.leaf.env ? `env ${n.leaf.env}` : ""].filter(Boolean);
  // one line per key: a multi-line value would break the drawing
  const shown = n.leaf.shown.includes("\n") ? JSON.stringify(n.leaf.shown) : n.leaf.shown;
  return `${n.name} = ${shown}${tags.length ? ` (${tags.join(", ")})` : ""}`;
}

export function renderTree(leaves: TreeLeaf[]): string {
  if (leaves.length === 0) return "(no settings)";
  const lines: string[] = [];
  const walk = (node: Node, indent: string) => {
    const kids = [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1;
      lines.push(`${indent}${last ? "└── " : "├── "}${label(kid)}`);
      walk(kid, indent + (last ? "    " : "│   "));
    });
  };
  const roots = [...build(leaves).children.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const r of roots) {
    lines.push(label(r));
    walk(r, "");
  }
  return lines.join("\n");
}

/** The same hierarchy as nested objects, for --json. */
export function treeJson(leaves: TreeLeaf[]): TreeJson {
  const toJson = (node: Node): TreeJson => {
    const out: TreeJson = {};
    for (const kid of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const entry: TreeJson[string] = {};
      if (kid.leaf) {
        entry.value = kid.leaf.shown;
        if (kid.leaf.secret) entry.secret = true;
        if (kid.leaf.env) entry.env = kid.leaf.env;
      }
      if (kid.children.size > 0) entry.children = toJson(kid);
      out[kid.name] = entry;
    }
    return out;
  };
  return toJson(build(leaves));
}
