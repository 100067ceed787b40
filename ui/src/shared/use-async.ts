import { useEffect, useState } from "react";

export type AsyncState<T> =
  { status: "loading" } | { status: "ready"; value: T } | { status: "error"; error: unknown };

/** Runs `load` once on mount and tracks its result; a late answer after unmount is ignored. */
export function useAsync<T>(load: () => Promise<T>): AsyncState<T> {
  const [state, setState] = useState<AsyncState<T>>({ status: "loading" });
  useEffect(() => {
    let live = true;
    load().then(
      (value) => {
        if (live) setState({ status: "ready", value });
      },
      (error: unknown) => {
        if (live) setState({ status: "error", error });
      },
    );
    return () => {
      live = false;
    };
    // `load` is expected to be stable for the component's life.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return state;
}
