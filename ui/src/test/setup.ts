import { cleanup } from "@testing-library/react";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach } from "vitest";

afterEach(async () => {
  cleanup();
  // Unmounting unsubscribes event listeners asynchronously; let that finish while the IPC
  // mock is still installed.
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});
