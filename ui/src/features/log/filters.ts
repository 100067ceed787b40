// The log's filters live in the URL (`#/log` with `?kinds=gift,chat&q=anna`), so a reload or
// a trip to another view keeps them.
import { useLocation, useSearch } from "wouter";
import { isKind, type Kind } from "./format";

export interface LogFilters {
  kinds: Kind[];
  search: string;
}

export function parseFilters(search: string): LogFilters {
  const params = new URLSearchParams(search);
  const kinds = (params.get("kinds") ?? "").split(",").filter(isKind);
  return { kinds, search: params.get("q") ?? "" };
}

export function filtersToSearch(f: LogFilters): string {
  const params = new URLSearchParams();
  if (f.kinds.length > 0) params.set("kinds", f.kinds.join(","));
  if (f.search) params.set("q", f.search);
  return params.toString();
}

export function useLogFilters(): [LogFilters, (next: LogFilters) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const set = (next: LogFilters) => {
    navigate(`${location}?${filtersToSearch(next)}`, { replace: true });
  };
  return [parseFilters(search), set];
}
