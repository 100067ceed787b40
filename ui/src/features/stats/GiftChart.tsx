import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface MinuteSeries {
  /** Wall-clock ms of the first minute. */
  startMs: number;
  gifts: readonly number[];
  coins: readonly number[];
}

/** uPlot's data: x in seconds, then one array per series. */
export function chartData(s: MinuteSeries): uPlot.AlignedData {
  const xs = s.gifts.map((_, i) => s.startMs / 1000 + i * 60);
  return [xs, [...s.gifts], [...s.coins]];
}

/** uPlot's `Axis.Side.Right`, spelled out (its enum is declared `const`). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
const RIGHT = 1 as uPlot.Axis.Side;

/** At least five minutes wide: one minute of data must not span years. */
export function xWindow(xs: ArrayLike<number>): { min: number; max: number } | null {
  if (xs.length === 0) return null;
  const first = xs[0] ?? 0;
  const last = xs[xs.length - 1] ?? first;
  return { min: first - 30, max: Math.max(last, first + 300) + 30 };
}

const pad = (n: number) => String(n).padStart(2, "0");
function hhmm(sec: number): string {
  const d = new Date(sec * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A tooltip that follows the cursor: minute, gifts and coins. */
function tooltipPlugin(): uPlot.Plugin {
  let tip: HTMLDivElement | null = null;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tooltip";
        tip.setAttribute("role", "tooltip");
        tip.style.display = "none";
        u.over.appendChild(tip);
      },
      setCursor: (u) => {
        if (!tip) return;
        const i = u.cursor.idx;
        if (i === null || i === undefined) {
          tip.style.display = "none";
          return;
        }
        const x = u.data[0][i];
        const gifts = u.data[1]?.[i];
        const coins = u.data[2]?.[i];
        if (x === undefined) return;
        tip.textContent = `${hhmm(x)} · ${String(gifts ?? 0)} gifts · ${String(coins ?? 0)} coins`;
        tip.style.display = "block";
        const left = u.valToPos(x, "x");
        tip.style.left = `${String(Math.min(left + 8, u.over.clientWidth - 160))}px`;
        tip.style.top = "4px";
      },
    },
  };
}

/** Gifts and coins per minute, with axes, labels and a tooltip. */
export function GiftChart({ series }: { series: MinuteSeries }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = Math.max(320, el.clientWidth || 640);
    const opts: uPlot.Options = {
      width,
      height: 240,
      plugins: [tooltipPlugin()],
      scales: {
        // At least a few minutes wide: one minute of data must not span years.
        x: { time: true },
        gifts: { auto: true, range: (_u, _min, max) => [0, Math.max(5, max * 1.1)] },
        coins: { auto: true, range: (_u, _min, max) => [0, Math.max(5, max * 1.1)] },
      },
      axes: [
        { label: "Time", stroke: "#9aa3b2", grid: { stroke: "#232734" } },
        { scale: "gifts", label: "Gifts / min", stroke: "#f0b429", grid: { stroke: "#232734" } },
        {
          scale: "coins",
          label: "Coins / min",
          side: RIGHT,
          stroke: "#4fd1c5",
          grid: { show: false },
        },
      ],
      series: [
        { label: "Minute", value: (_u, v) => hhmm(v) },
        { label: "Gifts", scale: "gifts", stroke: "#f0b429", width: 2, points: { show: true } },
        { label: "Coins", scale: "coins", stroke: "#4fd1c5", width: 2, points: { show: true } },
      ],
    };
    // Without a 2D canvas (a test DOM) there is no chart; the numbers beside it remain.
    const canDraw = document.createElement("canvas").getContext("2d") !== null;
    const u = canDraw ? new uPlot(opts, [[], [], []], el) : null;
    plot.current = u;
    const resize = new ResizeObserver(() => {
      if (u && el.clientWidth > 0) u.setSize({ width: el.clientWidth, height: 240 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const data = chartData(series);
    u.setData(data);
    const window = xWindow(data[0]);
    if (window) u.setScale("x", window);
  }, [series]);

  return (
    <div
      ref={host}
      className="gift-chart"
      id="stats-chart"
      aria-label="Gifts and coins per minute"
    />
  );
}
