import { useLocation } from "wouter";
import type { ViewDef } from "./views";

export function Nav({ views }: { views: readonly ViewDef[] }) {
  const [location, navigate] = useLocation();
  const current = location.replace(/^\//, "").split("/")[0];
  return (
    <nav className="nav" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ⚡
        </span>
        <span>LiveTrigger</span>
      </div>
      <ul>
        {views.map((v) => (
          <li key={v.id}>
            <button
              type="button"
              id={`nav-${v.id}`}
              className={v.id === current ? "nav-item active" : "nav-item"}
              aria-current={v.id === current ? "page" : undefined}
              onClick={() => {
                navigate(`/${v.id}`);
              }}
            >
              <span className="nav-glyph" aria-hidden="true">
                {v.glyph}
              </span>
              <span className="nav-text">
                <span className="nav-label">{v.label}</span>
                <span className="nav-hint">{v.hint}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
