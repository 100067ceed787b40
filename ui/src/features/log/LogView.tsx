import { useMutation } from "@tanstack/react-query";
import { commands, errorMessage, type ExportFormat } from "../../ipc";
import { useFeed } from "../../shared/feed";
import { ViewHeader } from "../../shared/ViewHeader";
import { useLogFilters } from "./filters";
import { ICONS, KINDS, type Kind } from "./format";
import { VirtualLog } from "./VirtualLog";
import { formatCount } from "../../shared/locale";

export function LogView() {
  const [filters, setFilters] = useLogFilters();
  const held = useFeed((s) => s.log.count);
  const exporter = useMutation({
    mutationFn: (format: ExportFormat) => commands.logExport({ format }),
  });

  const toggleKind = (k: Kind) => {
    const kinds = filters.kinds.includes(k)
      ? filters.kinds.filter((x) => x !== k)
      : [...filters.kinds, k];
    setFilters({ ...filters, kinds });
  };

  return (
    <>
      <ViewHeader
        title="Log"
        subtitle={`Every event of this session (${formatCount(held)} rows). Click a row to see what it triggered.`}
      />
      <div className="row log-toolbar" role="toolbar" aria-label="Filter">
        <button
          type="button"
          id="log-filter-all"
          className={filters.kinds.length === 0 ? "chip active" : "chip"}
          aria-pressed={filters.kinds.length === 0}
          onClick={() => {
            setFilters({ ...filters, kinds: [] });
          }}
        >
          all
        </button>
        {KINDS.map((k) => (
          <button
            key={k}
            type="button"
            id={`log-filter-${k}`}
            className={filters.kinds.includes(k) ? "chip active" : "chip"}
            aria-pressed={filters.kinds.includes(k)}
            onClick={() => {
              toggleKind(k);
            }}
          >
            <span aria-hidden="true">{ICONS[k]}</span> {k}
          </button>
        ))}
      </div>
      <div className="row">
        <input
          id="log-search"
          type="search"
          placeholder="Search a viewer…"
          aria-label="Search by viewer"
          value={filters.search}
          onChange={(e) => {
            setFilters({ ...filters, search: e.target.value });
          }}
        />
        <button
          type="button"
          className="secondary"
          id="log-export-jsonl"
          onClick={() => {
            exporter.mutate("json_lines");
          }}
        >
          Export JSON lines
        </button>
        <button
          type="button"
          className="secondary"
          id="log-export-csv"
          onClick={() => {
            exporter.mutate("csv");
          }}
        >
          Export CSV
        </button>
        {exporter.isSuccess && (
          <span className="muted" id="log-export-result">
            Saved to {exporter.data}
          </span>
        )}
        {exporter.isError && (
          <span className="error" role="alert">
            {errorMessage(exporter.error)}
          </span>
        )}
      </div>
      <section className="panel log" aria-label="Live event log">
        <VirtualLog filters={filters} />
      </section>
    </>
  );
}
