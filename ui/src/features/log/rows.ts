// Log rows come from the backend in pages; the list asks only for the pages on screen.
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { commands, type LogPage, type LogRow } from "../../ipc";
import { keys } from "../../shared/query";
import type { LogFilters } from "./filters";

export const PAGE = 100;
/** Pages scrolled past are dropped soon: a flood must not pile up thousands of them. */
const PAGE_GC_MS = 5_000;

function filterKey(f: LogFilters) {
  return [f.kinds.join(","), f.search.trim()] as const;
}

/** How many rows match, and how many of them are newer than `afterId`. */
export function useLogCount(f: LogFilters, afterId: number | null, enabled = true) {
  return useQuery({
    enabled,
    queryKey: [...keys.log, ...filterKey(f), "count", afterId],
    queryFn: () =>
      commands.logPage({
        query: {
          kinds: f.kinds,
          search: f.search.trim(),
          offset: 0,
          limit: 0,
          ...(afterId === null ? {} : { afterId }),
        },
      }),
    placeholderData: keepPreviousData,
    gcTime: PAGE_GC_MS,
  });
}

/**
 * The newest `size` matching rows with the count, in one request: while the view follows the
 * live end this is all it asks for per batch (not a count and one or two pages).
 */
export function useLogTail(f: LogFilters, size: number, enabled: boolean) {
  return useQuery({
    enabled,
    queryKey: [...keys.log, ...filterKey(f), "tail", size],
    queryFn: () =>
      commands.logPage({
        query: { kinds: f.kinds, search: f.search.trim(), offset: 0, limit: size, tail: true },
      }),
    placeholderData: keepPreviousData,
    gcTime: PAGE_GC_MS,
  });
}

/**
 * The rows at indexes `first..=last`: from `known` (the tail) where it has them, else from
 * their pages, as far as those are loaded.
 */
export function useLogRows(
  f: LogFilters,
  first: number,
  last: number,
  known?: LogPage,
): (index: number) => LogRow | undefined {
  const fromKnown = (index: number) =>
    known && index >= known.offset ? known.rows[index - known.offset] : undefined;
  let lo = first;
  let hi = last;
  while (lo <= hi && fromKnown(lo)) lo++;
  while (hi >= lo && fromKnown(hi)) hi--;
  const pages: number[] = [];
  if (hi >= lo) {
    for (let p = Math.floor(lo / PAGE); p <= Math.floor(hi / PAGE); p++) pages.push(p);
  }
  const results = useQueries({
    queries: pages.map((p) => ({
      queryKey: [...keys.log, ...filterKey(f), "page", p],
      queryFn: (): Promise<LogPage> =>
        commands.logPage({
          query: { kinds: f.kinds, search: f.search.trim(), offset: p * PAGE, limit: PAGE },
        }),
      placeholderData: keepPreviousData,
      gcTime: PAGE_GC_MS,
    })),
  });
  return (index: number) => {
    const row = fromKnown(index);
    if (row) return row;
    const slot = pages.indexOf(Math.floor(index / PAGE));
    const page = slot >= 0 ? results[slot]?.data : undefined;
    if (!page) return undefined;
    return page.rows[index - page.offset];
  };
}
