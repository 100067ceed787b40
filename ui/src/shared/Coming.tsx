import type { ReactNode } from "react";

/** A clearly labelled placeholder for a panel whose feature has not landed yet. */
export function Coming({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel coming" aria-label={`${title} (coming)`}>
      <div className="panel-title">
        <h2>{title}</h2>
        <span className="badge">coming</span>
      </div>
      <p className="muted">{children}</p>
    </section>
  );
}
