// WebKitGTK reports the POSIX locale as the browser language when LANG is C or POSIX (a bare
// session, CI). `Intl` rejects "C", and libraries that format numbers at load time (uPlot)
// then throw before the window renders. Fall back to English for such a tag only.
function usable(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (!usable(navigator.language)) {
  Object.defineProperty(navigator, "language", { value: "en-US", configurable: true });
}

let counts: Intl.NumberFormat | null = null;

/**
 * A count with the streamer's digit grouping ("12,345"). `toLocaleString()` without a tag
 * takes the engine's default locale, which under the C locale groups nothing.
 */
export function formatCount(n: number): string {
  counts ??= new Intl.NumberFormat(navigator.language);
  return counts.format(n);
}
