import fs from 'node:fs';

/**
 * What a V8 heap snapshot (`--heapsnapshot-signal`) holds: self size per constructor or kind of
 * object, largest first. Enough to say where a process's heap goes without opening DevTools.
 * `node -r @swc-node/register bench/heapSummary.ts FILE.heapsnapshot [top]`, or summarizeHeapSnapshot() from a benchmark.
 */
export interface HeapShare {
  what: string;
  count: number;
  self_mib: number;
}

export function summarizeHeapSnapshot(file: string, top = 15): { total_mib: number; largest: HeapShare[] } {
  const snapshot = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const [typeNames] = snapshot.snapshot.meta.node_types;
  const stride = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const shares = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let offset = 0; offset < snapshot.nodes.length; offset += stride) {
    const type = typeNames[snapshot.nodes[offset + typeAt]];
    const size = snapshot.nodes[offset + sizeAt];
    total += size;
    // Objects by constructor; strings, code and arrays by their kind (their names are contents).
    const what = type === 'object' || type === 'closure' ? `${type} ${snapshot.strings[snapshot.nodes[offset + nameAt]]}` : `(${type})`;
    const share = shares.get(what) ?? { count: 0, bytes: 0 };
    share.count += 1;
    share.bytes += size;
    shares.set(what, share);
  }
  const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const largest = [...shares.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([what, share]) => ({ what, count: share.count, self_mib: mib(share.bytes) }));
  return { total_mib: mib(total), largest };
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  console.log(JSON.stringify(summarizeHeapSnapshot(file, Number(top ?? 15)), null, 2));
}
