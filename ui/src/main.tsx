// First: later modules read the locale when they load.
import "./shared/locale";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import "./app/theme.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
// A render error must not leave a blank window: say what broke, in plain text.
createRoot(root, {
  onUncaughtError: (error) => {
    const pre = document.createElement("pre");
    pre.className = "fatal";
    pre.textContent = `LiveTrigger's window failed: ${error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error)}`;
    root.replaceChildren(pre);
  },
}).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
