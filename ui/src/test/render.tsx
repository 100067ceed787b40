// Renders a view the way the app does: inside a QueryClientProvider.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { queryClient } from "../shared/query";

function Providers({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}

/** Renders `ui` inside the app's one query client (shared with the feed's invalidations). */
export function renderView(ui: ReactElement): RenderResult {
  return render(ui, { wrapper: Providers });
}

/** Renders `ui` with a query client of its own, so no cached answer leaks between tests. */
export function renderWithClient(ui: ReactElement): RenderResult {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}
