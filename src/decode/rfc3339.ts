/**
 * Strict RFC 3339 timestamps → epoch milliseconds. Hand-written because `Date.parse`
 * accepts many non-RFC forms ("2024", "March 7") that must count as rejected lines, and
 * because it runs once per event on the hot path.
 */

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/**
 * The event times kovenant accepts, epoch milliseconds. InfluxDB stores int64
 * nanoseconds: 1677-09-21T00:12:43.145224194Z to 2262-04-11T23:47:16.854775806Z. A
 * point is stamped with the start of its window (at most a day long), so the earliest
 * accepted time keeps a day's margin above InfluxDB's minimum; the latest is the last
 * whole millisecond InfluxDB can store. Outside, an event's window could not be written.
 */
export const MIN_EVENT_TIME_MS = Date.UTC(1677, 8, 23); // 1677-09-23T00:00:00Z
const MAX_EVENT_TIME_MS = 9_223_372_036_854; // 2262-04-11T23:47:16.854Z

/** `ms` if InfluxDB can store the window it falls in, else NaN. */
export function inStorableRange(ms: number): number {
  return ms >= MIN_EVENT_TIME_MS && ms <= MAX_EVENT_TIME_MS ? ms : NaN;
}

function digit(code: number): number {
  const d = code - 48;
  return d >= 0 && d <= 9 ? d : -1000;
}

function daysFromCivil(y: number, m: number, d: number): number {
  // Days since 1970-01-01 for the proleptic Gregorian calendar.
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const yy = y - 1;
  const days = yy * 365 + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400);
  return days + (DAYS_BEFORE_MONTH[m - 1] ?? 0) + (leap && m > 2 ? 1 : 0) + d - 1 - 719162;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (case-insensitive `T`/`Z`, a space
 * allowed for `T`) read through `at(i)`, which returns the char code at position i.
 * Returns epoch milliseconds, with fractions below a millisecond truncated, or NaN (also
 * for a valid timestamp outside the range InfluxDB can store, `inStorableRange`).
 */
export function parseRfc3339Codes(at: (i: number) => number, length: number): number {
  if (length < 20) return NaN;
  const year = digit(at(0)) * 1000 + digit(at(1)) * 100 + digit(at(2)) * 10 + digit(at(3));
  const month = digit(at(5)) * 10 + digit(at(6));
  const day = digit(at(8)) * 10 + digit(at(9));
  const hour = digit(at(11)) * 10 + digit(at(12));
  const minute = digit(at(14)) * 10 + digit(at(15));
  const second = digit(at(17)) * 10 + digit(at(18));
  const sep = at(10);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    at(4) !== 45 ||
    at(7) !== 45 ||
    at(13) !== 58 ||
    at(16) !== 58 ||
    (sep !== 84 && sep !== 116 && sep !== 32) ||
    day > daysInMonth(year, month)
  ) {
    return NaN;
  }
  let i = 19;
  let millis = 0;
  if (at(i) === 46) {
    i++;
    const fracStart = i;
    while (i < length && digit(at(i)) >= 0) {
      if (i - fracStart < 3) millis = millis * 10 + digit(at(i));
      i++;
    }
    const n = i - fracStart;
    if (n === 0) return NaN;
    for (let k = n; k < 3; k++) millis *= 10;
  }
  let offsetMin = 0;
  const z = at(i);
  if (z === 90 || z === 122) {
    i++;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== length || at(i + 3) !== 58) return NaN;
    const oh = digit(at(i + 1)) * 10 + digit(at(i + 2));
    const om = digit(at(i + 4)) * 10 + digit(at(i + 5));
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return NaN;
  }
  if (i !== length) return NaN;
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + Math.min(second, 59);
  return inStorableRange((secs - offsetMin * 60) * 1000 + millis);
}

export function parseRfc3339(s: string): number {
  return parseRfc3339Codes((i) => (i < s.length ? s.charCodeAt(i) : -1), s.length);
}
