// Ordering of names. Code-unit order, not localeCompare: the first localeCompare of a process
// loads ICU's collator (~7 ms, paid by every plan), and device and network names are ASCII.

/** Compares two strings by their UTF-16 code units (a stable, locale-free order). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
