import { useDroppable } from "@dnd-kit/core";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { commands } from "../../ipc";
import { actionLane, isCommandAction, type Action, type Step } from "./model";

/** The placeholders a command can use (see docs/engine.md). */
export const PLACEHOLDERS = [
  "user",
  "username",
  "gift",
  "count",
  "coins",
  "comment",
  "likes",
  "viewers",
  "player",
] as const;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => {
      setV(value);
    }, ms);
    return () => {
      clearTimeout(t);
    };
  }, [value, ms]);
  return v;
}

function CommandPreview({ template }: { template: string }) {
  const debounced = useDebounced(template, 200);
  const preview = useQuery({
    queryKey: ["template-preview", debounced],
    queryFn: () => commands.templatePreview({ template: debounced }),
  });
  const p = preview.data;
  return (
    <div className="preview" aria-live="polite">
      {p?.error ? (
        <p className="error">{p.error}</p>
      ) : p?.command ? (
        <>
          <span className="muted">
            Preview for a viewer named <code>{p.sampleUser}</code>:
          </span>
          <code className="preview-command">{p.command}</code>
          {p.truncated && <span className="muted">Viewer text was shortened to fit.</span>}
        </>
      ) : (
        <span className="muted">…</span>
      )}
    </div>
  );
}

interface CardProps {
  action: Action;
  lanes: string[];
  usedBy: number;
  onChange: (patch: Partial<Action>) => void;
  onDelete: () => void;
  onPlay: (file: string, volume: number) => void;
}

function replaceStep(action: Action, index: number, step: Step): Step[] {
  return action.steps.map((s, i) => (i === index ? step : s));
}

export function ActionCard({ action, lanes, usedBy, onChange, onDelete, onPlay }: CardProps) {
  const { setNodeRef, isOver } = useDroppable({
    id: `action:${action.id}`,
    data: { actionId: action.id },
  });
  const templateRef = useRef<HTMLTextAreaElement>(null);
  const name = action.name ?? action.id;
  const kind = isCommandAction(action) ? "command" : "sound";
  return (
    <li
      ref={setNodeRef}
      className={`card action-card kind-${kind}${isOver ? " over" : ""}`}
      data-action-id={action.id}
      aria-label={`Action ${name}`}
    >
      <div className="card-head">
        <span className="badge">{kind === "command" ? "Minecraft" : "Sound"}</span>
        <input
          className="card-name"
          type="text"
          value={name}
          aria-label={`Name of action ${action.id}`}
          onChange={(e) => {
            onChange({ name: e.target.value });
          }}
        />
        <span className="muted" title="Rules that run it">
          {usedBy} {usedBy === 1 ? "rule" : "rules"}
        </span>
        <button
          type="button"
          className="icon danger"
          aria-label={`Delete action ${name}`}
          onClick={onDelete}
        >
          ✕
        </button>
      </div>
      {action.steps.map((step, i) => {
        if (step.type === "command") {
          const template = (step as { template: string }).template;
          return (
            <div key={i} className="step">
              <textarea
                ref={templateRef}
                rows={2}
                spellCheck={false}
                className="template"
                value={template}
                aria-label={`Command of action ${name}`}
                onChange={(e) => {
                  onChange({
                    steps: replaceStep(action, i, { type: "command", template: e.target.value }),
                  });
                }}
              />
              <div className="chips" role="group" aria-label="Insert a placeholder">
                {PLACEHOLDERS.map((ph) => (
                  <button
                    key={ph}
                    type="button"
                    className="chip small"
                    aria-label={`Insert {${ph}}`}
                    onClick={() => {
                      const el = templateRef.current;
                      const at = el?.selectionStart ?? template.length;
                      const next = `${template.slice(0, at)}{${ph}}${template.slice(at)}`;
                      onChange({
                        steps: replaceStep(action, i, { type: "command", template: next }),
                      });
                    }}
                  >
                    {`{${ph}}`}
                  </button>
                ))}
              </div>
              <CommandPreview template={template} />
            </div>
          );
        }
        if (step.type === "sound") {
          const s = step as { file: string; volume?: number };
          const volume = s.volume ?? 1;
          return (
            <div key={i} className="step row">
              <input
                type="text"
                value={s.file}
                aria-label={`Sound file of action ${name}`}
                onChange={(e) => {
                  onChange({
                    steps: replaceStep(action, i, { type: "sound", file: e.target.value, volume }),
                  });
                }}
              />
              <label className="field inline">
                <span>Volume {Math.round(volume * 100)} %</span>
                <input
                  type="range"
                  min={0}
                  max={2}
                  step={0.05}
                  value={volume}
                  aria-label={`Volume of action ${name}`}
                  onChange={(e) => {
                    onChange({
                      steps: replaceStep(action, i, {
                        type: "sound",
                        file: s.file,
                        volume: Number(e.target.value),
                      }),
                    });
                  }}
                />
              </label>
              <button
                type="button"
                className="secondary"
                aria-label={`Play ${s.file}`}
                onClick={() => {
                  onPlay(s.file, volume);
                }}
              >
                ▶ Play
              </button>
            </div>
          );
        }
        return (
          <p key={i} className="muted">
            {step.type} step
          </p>
        );
      })}
      <label className="field inline">
        <span>Lane</span>
        <select
          value={actionLane(action)}
          aria-label={`Lane of action ${name}`}
          onChange={(e) => {
            onChange({ lane: e.target.value });
          }}
        >
          {lanes.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
    </li>
  );
}

/** Dropping a trigger here makes a rule with a brand-new command. */
export function NewActionZone() {
  const { setNodeRef, isOver } = useDroppable({ id: "new-action" });
  return (
    <div
      ref={setNodeRef}
      id="new-action-zone"
      className={isOver ? "drop-zone over" : "drop-zone"}
      aria-label="Drop a trigger here for a rule with a new Minecraft command"
    >
      Drop a trigger here: a rule with a new Minecraft command
    </div>
  );
}
