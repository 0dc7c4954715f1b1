import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TAG_VALUE_BYTES, seriesKey, tagValueChanges } from '../../src/core/series.ts';
import { formatPoint, msToNanosText } from '../../src/sinks/line-protocol.ts';
import { influxQuery, requireBinary, startInfluxd, type RunningServer } from '../support/servers.ts';

describe('line protocol text', () => {
  it('sorts tags, omits empty values, writes integers with i and ns timestamps', () => {
    expect(
      formatPoint({
        measurement: 'kovenant_io',
        tags: { pod: 'p', namespace: 'ns', release: '' },
        ints: { bytes_read: 5, reads: 1 },
        timeMs: 1_700_000_000_000,
      }),
    ).toBe('kovenant_io,namespace=ns,pod=p bytes_read=5i,reads=1i 1700000000000000000');
  });

  it('escapes commas, spaces and equals signs in tags, and commas and spaces in measurements', () => {
    expect(seriesKey('m m,x', { 'k k': 'a,b=c d' })).toBe('m\\ m\\,x,k\\ k=a\\,b\\=c\\ d');
  });

  it('writes float fields and exact nanoseconds for any millisecond', () => {
    expect(formatPoint({ measurement: 'm', tags: {}, ints: {}, floats: { cpu_seconds: 0.25 }, timeMs: 0 })).toBe('m cpu_seconds=0.25 0');
    expect(msToNanosText(9_007_199_254_740)).toBe('9007199254740000000');
  });
});

describe.skipIf(!requireBinary('/usr/bin/influxd'))('escaping as InfluxDB reads it back', () => {
  let influx: RunningServer;
  beforeAll(async () => {
    influx = await startInfluxd();
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE t')}`, { method: 'POST' });
  });
  afterAll(async () => influx?.dispose());

  it('tag values with spaces, commas, equals signs, quotes and unicode survive a round trip', async () => {
    const nasty = ['a b', 'a,b', 'a=b', 'quote"d', 'ünïcødé-ポッド', "it's", 'trailing '];
    const body = nasty
      .map((v, i) =>
        formatPoint({ measurement: 'kovenant_tcp', tags: { pod: v, node: `n${i}` }, ints: { bytes_sent: i + 1 }, timeMs: 1_000 }),
      )
      .join('\n');
    const res = await fetch(`${influx.url}/write?db=t`, { method: 'POST', body });
    expect(res.status, await res.text()).toBe(204);
    const series = await influxQuery(influx.url, 't', 'SELECT sum(bytes_sent) FROM kovenant_tcp GROUP BY pod');
    const got = Object.fromEntries(series.map((s) => [s.tags?.pod, s.values[0]?.[1]]));
    expect(got).toEqual(Object.fromEntries(nasty.map((v, i) => [v, i + 1])));
  });
});

describe.skipIf(!requireBinary('/usr/bin/influxd'))('hostile tag values: every point is accepted', () => {
  let influx: RunningServer;
  beforeAll(async () => {
    influx = await startInfluxd();
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE h')}`, { method: 'POST' });
  });
  afterAll(async () => influx?.dispose());

  it('trailing backslashes, backslashes before separators, control characters and 70 KB names', async () => {
    const long = 'x'.repeat(70_000);
    const cases: Array<[string, string]> = [
      ['trail\\', 'trail\uff3c'],
      ['two\\\\', 'two\\\uff3c'],
      ['a\\,b', 'a\uff3c,b'],
      ['a\\ b', 'a\uff3c b'],
      ['a\\=b', 'a\uff3c=b'],
      ['mid\\dle', 'mid\\dle'],
      ['nu\u0000l', 'nu\ufffdl'],
      ['new\nline\r', 'new\ufffdline\ufffd'],
      ['tab\tdel\u007f', 'tab\ufffddel\ufffd'],
      [long, 'x'.repeat(MAX_TAG_VALUE_BYTES)],
      ['ü'.repeat(400), 'ü'.repeat(MAX_TAG_VALUE_BYTES / 2)],
      [`${'y'.repeat(MAX_TAG_VALUE_BYTES - 1)}\\tail`, `${'y'.repeat(MAX_TAG_VALUE_BYTES - 1)}\uff3c`],
    ];
    const cutBefore = tagValueChanges.cut;
    const body = cases
      .map(([v], i) =>
        formatPoint({
          measurement: 'kovenant_tcp',
          tags: { pod: v, workload: `w${i}`, node: 'n' },
          ints: { bytes_sent: i + 1 },
          timeMs: 1_000,
        }),
      )
      .join('\n');
    const res = await fetch(`${influx.url}/write?db=h`, { method: 'POST', body });
    expect(res.status, await res.text()).toBe(204);
    expect(tagValueChanges.cut - cutBefore).toBe(3);
    const series = await influxQuery(influx.url, 'h', 'SELECT sum(bytes_sent) FROM kovenant_tcp GROUP BY pod, workload');
    const got = Object.fromEntries(series.map((s) => [s.tags?.workload, [s.tags?.pod, s.values[0]?.[1]]]));
    expect(got).toEqual(Object.fromEntries(cases.map(([, stored], i) => [`w${i}`, [stored, i + 1]])));
  });
});
