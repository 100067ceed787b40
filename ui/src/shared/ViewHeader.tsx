import type { ReactNode } from "react";

export function ViewHeader({ title, subtitle }: { title: string; subtitle: ReactNode }) {
  return (
    <header className="view-header">
      <h1>{title}</h1>
      <p className="muted">{subtitle}</p>
    </header>
  );
}
