import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect } from "react";
import { Redirect, Route, Router, Switch } from "wouter";
import { useHashLocation } from "wouter/use-hash-location";
import { startFeed } from "../shared/feed";
import { queryClient } from "../shared/query";
import { Nav } from "./Nav";
import { StatusBar } from "./StatusBar";
import { VIEWS, type ViewDef } from "./views";

function ViewRoute({ view }: { view: ViewDef }) {
  const View = view.component;
  return (
    <main className="content" id="view" data-view={view.id} aria-label={view.label}>
      <View />
    </main>
  );
}

export function App() {
  // One feed for the whole window: it keeps collecting while any view is on screen.
  useEffect(() => startFeed(), []);
  return (
    <QueryClientProvider client={queryClient}>
      <Router hook={useHashLocation}>
        <div className="shell">
          <Nav views={VIEWS} />
          <Switch>
            {VIEWS.map((v) => (
              <Route key={v.id} path={`/${v.id}`}>
                <ViewRoute view={v} />
              </Route>
            ))}
            <Route>
              <Redirect to="/connect" replace />
            </Route>
          </Switch>
          <StatusBar />
        </div>
      </Router>
    </QueryClientProvider>
  );
}
