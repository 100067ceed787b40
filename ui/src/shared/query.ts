import { QueryClient } from "@tanstack/react-query";

/** The one query client of the window: request/reply state for every view. */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // The backend is local: a failure is not a flaky network, so do not hammer it.
      retry: false,
      refetchOnWindowFocus: false,
    },
  },
});
