// How log rows read: kinds with their icons, and times.

export const KINDS = [
  "gift",
  "chat",
  "like",
  "follow",
  "share",
  "join",
  "subscribe",
  "viewers",
  "stream",
  "connection",
  "error",
  "warning",
] as const;
export type Kind = (typeof KINDS)[number];

// Symbols every common UI font has (emoji fonts are missing on many Linux desktops).
export const ICONS: Record<string, string> = {
  gift: "✦",
  chat: "✎",
  like: "♥",
  follow: "✚",
  share: "↗",
  join: "→",
  subscribe: "★",
  viewers: "◉",
  stream: "▶",
  connection: "⇌",
  error: "✖",
  warning: "⚠",
};

export function isKind(value: string): value is Kind {
  return (KINDS as readonly string[]).includes(value);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local wall-clock time, to the second. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Only web images: a viewer-supplied URL must never become another scheme. */
export function safeImage(url: string | null): string | null {
  if (!url) return null;
  return /^https?:\/\//i.test(url) ? url : null;
}
