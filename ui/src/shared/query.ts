// The one query layer for request/reply state (stats, log pages, traces, catalogue, profile).
// Pushed batches invalidate its keys (see feed.ts), so views never poll.
import { QueryClient } from "@tanstack/react-query";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Fresh until a batch says otherwise.
      staleTime: Infinity,
      // The backend is local: a failure is not a flaky network, so do not hammer it.
      retry: false,
      refetchOnWindowFocus: false,
    },
  },
});

/** Query keys other code invalidates; one place so a typo cannot silently stop updates. */
export const keys = {
  log: ["log"] as const,
  trace: ["trace"] as const,
  stats: ["stats"] as const,
};
