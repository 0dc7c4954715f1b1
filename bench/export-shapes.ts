/**
 * The shapes the same Tetragon event takes in real exports: Go protobuf JSON with a space
 * after every comma (some builds), newer envelope fields (`cluster_name`, `node_labels`).
 * Field-filtered lines come from ./field-filter.ts.
 */

/** The line as a Go protobuf JSON build that writes `, ` after every comma prints it. */
export function spacedLine(line: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ',') out += ' ';
  }
  return out;
}

/** With the envelope fields newer Tetragon versions add after `time` (field order 1003, 1004). */
export function withClusterFields(line: string, cluster = 'prod-eu-1'): string {
  if (!line.endsWith('}')) throw new Error('not a JSON object line');
  return `${line.slice(0, -1)},"cluster_name":"${cluster}","node_labels":{"kubernetes.io/arch":"amd64","kubernetes.io/hostname":"node-a","topology.kubernetes.io/zone":"eu-west-1a"}}`;
}
