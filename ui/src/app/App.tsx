import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { startLogFeed } from "../features/log";
import { startQueueFeed } from "../features/queue";
import { queryClient } from "../shared/query";
import { Nav } from "./Nav";
import { StatusBar } from "./StatusBar";
import { VIEWS, type ViewId } from "./views";

export function App() {
  const [current, setCurrent] = useState<ViewId>("connect");
  // The log keeps collecting while other views are on screen.
  useEffect(() => startLogFeed(), []);
  useEffect(() => startQueueFeed(), []);
  const view = VIEWS.find((v) => v.id === current) ?? VIEWS[0];
  if (!view) throw new Error("no views are defined");
  const View = view.component;
  return (
    <QueryClientProvider client={queryClient}>
      <div className="shell">
        <Nav views={VIEWS} current={current} onSelect={setCurrent} />
        <main className="content" id="view" data-view={view.id} aria-label={view.label}>
          <View />
        </main>
        <StatusBar />
      </div>
    </QueryClientProvider>
  );
}
