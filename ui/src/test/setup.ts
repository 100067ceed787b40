import { cleanup } from "@testing-library/react";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach } from "vitest";
import { resetFeed } from "../shared/feed";
import { queryClient } from "../shared/query";

// A failed request shows its error at once in tests instead of after a retry.
queryClient.setDefaultOptions({
  queries: { ...queryClient.getDefaultOptions().queries, retry: false },
});

afterEach(async () => {
  cleanup();
  resetFeed();
  queryClient.clear();
  // Unmounting unsubscribes event listeners asynchronously; let that finish while the IPC
  // mock is still installed.
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});
