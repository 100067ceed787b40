// Renders a view the way the app does: inside the one QueryClientProvider.
import { QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { queryClient } from "../shared/query";

function Providers({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}

export function renderView(ui: ReactElement): RenderResult {
  return render(ui, { wrapper: Providers });
}
