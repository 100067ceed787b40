import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LogQuery, LogRow, TraceView as Trace } from "../../ipc";
import { keys, queryClient } from "../../shared/query";
import { renderView } from "../../test/render";
import { fakeBackend, logPages } from "../../test/backend";
import { LogView } from "./LogView";
import { TraceBody } from "./TraceView";

const HOSTILE = '<img src=x onerror=alert(1)> "},{"text":"pwn';

function row(i: number): LogRow {
  const gift = i % 10 === 0;
  return {
    id: i + 1,
    atMs: 1_700_000_000_000 + i * 10,
    kind: gift ? "gift" : "like",
    user: i === 99_999 ? HOSTILE : `Viewer ${String(i % 50)}`,
    handle: `viewer${String(i % 50)}`,
    text: gift ? "sent Rose ×5 · 5 coins" : "liked ×3",
    gift: gift
      ? { id: 5655, name: "Rose", imageUrl: "javascript:alert(1)", count: 5, coins: 5 }
      : null,
    comment: null,
    history: false,
    traced: true,
    fired: gift ? 1 : 0,
  };
}

// happy-dom has no layout: give the scroll box and the rows real sizes.
// eslint-disable-next-line @typescript-eslint/unbound-method -- restored as is afterwards
const original = HTMLElement.prototype.getBoundingClientRect;
beforeAll(() => {
  HTMLElement.prototype.getBoundingClientRect = function (this: HTMLElement) {
    const h = this.id === "log-scroll" ? 600 : 34;
    return { x: 0, y: 0, top: 0, left: 0, right: 800, bottom: h, width: 800, height: h } as DOMRect;
  };
  for (const prop of ["clientHeight", "offsetHeight"]) {
    Object.defineProperty(HTMLElement.prototype, prop, {
      configurable: true,
      get(this: HTMLElement) {
        return this.id === "log-scroll" ? 600 : 34;
      },
    });
  }
  // The scroll box is as tall as the virtual list inside it.
  Object.defineProperty(HTMLElement.prototype, "scrollHeight", {
    configurable: true,
    get(this: HTMLElement) {
      const inner = this.firstElementChild as HTMLElement | null;
      return Number.parseFloat(inner?.style.height ?? "") || this.clientHeight;
    },
  });
});
afterAll(() => {
  HTMLElement.prototype.getBoundingClientRect = original;
  for (const prop of ["clientHeight", "offsetHeight", "scrollHeight"]) {
    Reflect.deleteProperty(HTMLElement.prototype, prop);
  }
});

beforeEach(() => {
  // Filters live in the URL: start each test without any.
  window.history.replaceState(null, "", "/");
});

const trace: Trace = {
  row: row(0),
  verdict: "1 rule(s) fired (1 run(s)); 1 item(s) queued, 1 done, 0 failed or dropped.",
  matches: [{ rule: "rose-creeper", runs: 1 }],
  skips: [{ rule: "big-gift-fanfare", reason: "cooldown: the rule can fire again in 900 ms" }],
  items: [
    {
      id: 7,
      lane: "minecraft",
      rule: "rose-creeper",
      status: "done",
      detail: null,
      commands: ["summon minecraft:creeper ~ ~ ~"],
      sounds: [],
      outputs: [HOSTILE],
    },
  ],
};

describe("log", () => {
  it("renders only the rows on screen of 100,000, newest at the bottom", async () => {
    const queries: LogQuery[] = [];
    const pages = logPages(100_000, row);
    fakeBackend({
      log_page: (args) => {
        queries.push((args as { query: LogQuery }).query);
        return pages(args);
      },
    });
    renderView(<LogView />);
    const list = await screen.findByRole("list", { name: "Events" });
    expect(list.getAttribute("aria-rowcount")).toBe("100000");
    // happy-dom has no scrolling of its own: move to the end as the streamer would.
    await waitFor(() => {
      const el = document.getElementById("log-scroll")!;
      el.scrollTop = 100_000 * 34 - 600;
      fireEvent.scroll(el);
      expect(within(list).getByText(HOSTILE)).toBeTruthy();
    });
    const shown = within(list).getAllByRole("listitem");
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(80);
    // Only pages near the end were asked for, never the whole log.
    expect(Math.max(...queries.map((q) => q.limit))).toBeLessThanOrEqual(100);
    expect(queries.some((q) => q.tail === true || q.offset >= 99_900)).toBe(true);
    // A hostile name is text, and a non-web gift image URL is never loaded.
    expect(within(list).getByText(HOSTILE).tagName).toBe("SPAN");
    expect(document.querySelector("img")).toBeNull();
  });

  it("following the live end, asks once per batch: the newest rows with their count", async () => {
    let count = 1_000;
    const queries: LogQuery[] = [];
    fakeBackend({
      log_page: (args) => {
        queries.push((args as { query: LogQuery }).query);
        return logPages(count, row)(args);
      },
    });
    renderView(<LogView />);
    const list = await screen.findByRole("list", { name: "Events" });
    const el = document.getElementById("log-scroll")!;
    // happy-dom does not scroll by itself: stay at the end as the list would.
    const toEnd = () => {
      el.scrollTop = count * 34 - 600;
      fireEvent.scroll(el);
    };
    await waitFor(() => {
      toEnd();
      expect(list.querySelector("[data-id='1000']")).toBeTruthy();
    });
    queries.length = 0;
    // A batch with ten new rows, as the feed store handles it.
    count = 1_010;
    await act(() => queryClient.invalidateQueries({ queryKey: keys.log }));
    await waitFor(() => {
      toEnd();
      expect(list.getAttribute("aria-rowcount")).toBe("1010");
      expect(list.querySelector("[data-id='1010']")).toBeTruthy();
    });
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatchObject({ tail: true });
    expect(queries[0]!.limit).toBeLessThanOrEqual(100);
    // Scrolled up, it counts (with what is new) and loads the pages on screen instead.
    fireEvent.pointerDown(el);
    el.scrollTop = 0;
    fireEvent.scroll(el);
    await waitFor(() => {
      expect(list.querySelector("[data-id='1']")).toBeTruthy();
    });
    expect(queries.some((q) => !q.tail && q.limit === 0 && q.afterId === 1_010)).toBe(true);
    expect(queries.some((q) => !q.tail && q.offset === 0 && q.limit > 0)).toBe(true);
  });

  it("filters by kind and searches by viewer through the backend", async () => {
    const queries: LogQuery[] = [];
    const pages = logPages(500, row);
    fakeBackend({
      log_page: (args) => {
        queries.push((args as { query: LogQuery }).query);
        return pages(args);
      },
    });
    const user = userEvent.setup();
    renderView(<LogView />);
    await screen.findByRole("list", { name: "Events" });
    const toolbar = screen.getByRole("toolbar", { name: "Filter" });
    await user.click(within(toolbar).getByRole("button", { name: /subscribe/ }));
    await user.click(within(toolbar).getByRole("button", { name: /gift/ }));
    await user.type(screen.getByLabelText("Search by viewer"), "viewer10");
    await waitFor(() => {
      expect(queries.at(-1)).toMatchObject({ kinds: ["subscribe", "gift"], search: "viewer10" });
    });
    await waitFor(() => {
      const items = within(screen.getByRole("list", { name: "Events" })).getAllByRole("listitem");
      expect(items.length).toBe(10);
      expect(items.every((i) => i.dataset.kind === "gift")).toBe(true);
    });
    // The filters are in the URL, so they survive a reload.
    expect(window.location.search).toContain("kinds=subscribe%2Cgift");
  });

  it("expands a row into its trace", async () => {
    const pages = logPages(3, row);
    const asked: unknown[] = [];
    fakeBackend({
      log_page: pages,
      log_trace: (args) => {
        asked.push(args);
        return trace;
      },
    });
    const user = userEvent.setup();
    renderView(<LogView />);
    const list = await screen.findByRole("list", { name: "Events" });
    await waitFor(() => {
      expect(within(list).getAllByRole("button")).toHaveLength(3);
    });
    await user.click(within(list).getAllByRole("button")[0]!);
    const t = await screen.findByRole("region", { name: "Trace" });
    expect(asked).toEqual([{ id: 1 }]);
    expect(t.querySelector(".trace-match")?.textContent).toContain("rose-creeper");
  });
});

describe("trace", () => {
  it("shows event → rules → items → outcome, hostile text as text", () => {
    render(<TraceBody trace={trace} />);
    const t = screen.getByRole("region", { name: "Trace" });
    expect(within(t).getByText(/1 rule\(s\) fired/)).toBeTruthy();
    const fired = t.querySelector(".trace-match");
    expect(fired?.textContent).toContain("rose-creeper");
    expect(t.querySelector(".trace-skip")?.textContent).toContain("cooldown");
    const item = t.querySelector(".trace-item");
    expect(item?.getAttribute("data-status")).toBe("done");
    expect(item?.textContent).toContain("summon minecraft:creeper ~ ~ ~");
    expect(within(t).getByText(`↳ ${HOSTILE}`).tagName).toBe("SPAN");
    expect(document.querySelector("img")).toBeNull();
  });

  it("says why nothing fired", () => {
    render(
      <TraceBody
        trace={{
          ...trace,
          verdict: "A duplicate of a message already handled: ignored.",
          matches: [],
          skips: [{ rule: null, reason: "duplicate: this message was already handled" }],
          items: [],
        }}
      />,
    );
    expect(screen.getByText(/duplicate of a message/)).toBeTruthy();
    expect(screen.queryByText("Actions")).toBeNull();
  });
});
