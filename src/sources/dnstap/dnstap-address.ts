/**
 * The dnstap addresses kovenant listens on or dials, as CoreDNS's `dnstap` line spells them.
 * Apart from the listener so that checking a setting does not load the protobuf and DNS
 * decoders (replay parses every component's settings at start-up).
 */

/** A bad listen address or one that cannot be listened on; the CLI names the flag. */
export class DnstapAddressError extends Error {
  override readonly name = 'DnstapAddressError';
}

export type DnstapAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/**
 * `HOST:PORT`, `:PORT`, `[V6]:PORT` or `tcp://` of those; a unix socket as a path with a
 * `/` or `unix://PATH` (the spellings of CoreDNS's own `dnstap` line).
 */
export function parseDnstapAddress(text: string): DnstapAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path) throw new DnstapAddressError(`${text}: no socket path`);
    return { kind: 'unix', path };
  }
  const hostPort = text.startsWith('tcp://') ? text.slice('tcp://'.length) : text;
  if (!text.startsWith('tcp://') && hostPort.includes('/')) return { kind: 'unix', path: hostPort };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(hostPort);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) throw new DnstapAddressError(`${text}: expected HOST:PORT or a socket path`);
  const host = m[1] ?? m[2] ?? '';
  return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port };
}
