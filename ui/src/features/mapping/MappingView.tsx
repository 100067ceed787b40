import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
  type KeyboardCoordinateGetter,
} from "@dnd-kit/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { commands, errorMessage, onFileDrop } from "../../ipc";
import { ViewHeader } from "../../shared/ViewHeader";
import { ActionCard, NewActionZone } from "./ActionLibrary";
import {
  newCommandAction,
  newRule,
  newSoundAction,
  paletteLabel,
  parseProfile,
  starterTemplate,
  toJson,
  type PaletteTrigger,
} from "./model";
import { Palette } from "./Palette";
import { RulesPanel } from "./RulesPanel";
import { isDirty, useMapping } from "./store";
import "./mapping.css";

const SOUND_FILE = /\.(mp3|wav|ogg|flac)$/i;

/** Arrow keys jump from one drop target to the next instead of moving pixel by pixel. */
const jumpBetweenTargets: KeyboardCoordinateGetter = (event, { context }) => {
  const forward = event.code === "ArrowDown" || event.code === "ArrowRight";
  const back = event.code === "ArrowUp" || event.code === "ArrowLeft";
  const { droppableRects, droppableContainers, collisionRect, over } = context;
  if ((!forward && !back) || !collisionRect) return undefined;
  event.preventDefault();
  const targets = droppableContainers
    .getEnabled()
    .map((c) => ({ id: c.id, rect: droppableRects.get(c.id) }))
    .filter((t): t is { id: typeof t.id; rect: NonNullable<typeof t.rect> } => !!t.rect)
    .sort((a, b) => a.rect.top - b.rect.top || a.rect.left - b.rect.left);
  if (targets.length === 0) return undefined;
  const at = over ? targets.findIndex((t) => t.id === over.id) : -1;
  const nextIndex =
    at === -1
      ? forward
        ? 0
        : targets.length - 1
      : (at + (forward ? 1 : -1) + targets.length) % targets.length;
  const next = targets[nextIndex];
  if (!next) return undefined;
  return {
    x: next.rect.left + (next.rect.width - collisionRect.width) / 2,
    y: next.rect.top + (next.rect.height - collisionRect.height) / 2,
  };
};

function ActionChooser({
  trigger,
  onPick,
  onClose,
}: {
  trigger: PaletteTrigger;
  onPick: (actionId: string | null) => void;
  onClose: () => void;
}) {
  const actions = useMapping((s) => s.draft?.actions ?? []);
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    first.current?.focus();
  }, []);
  return (
    <div
      className="chooser"
      role="dialog"
      aria-modal="true"
      aria-label={`Choose an action for ${paletteLabel(trigger)}`}
      id="action-chooser"
      onKeyDown={(e) => {
        if (e.key === "Escape") onClose();
      }}
    >
      <h3>{paletteLabel(trigger)} → which action?</h3>
      <ul>
        {actions.map((a, i) => (
          <li key={a.id}>
            <button
              ref={i === 0 ? first : undefined}
              type="button"
              className="secondary"
              data-choose-action={a.id}
              onClick={() => {
                onPick(a.id);
              }}
            >
              {a.name ?? a.id}
            </button>
          </li>
        ))}
        <li>
          <button
            ref={actions.length === 0 ? first : undefined}
            type="button"
            className="secondary"
            data-choose-action=""
            onClick={() => {
              onPick(null);
            }}
          >
            A new Minecraft command
          </button>
        </li>
      </ul>
      <button type="button" className="secondary" onClick={onClose}>
        Cancel
      </button>
    </div>
  );
}

export function MappingView() {
  const queryClient = useQueryClient();
  const profileQuery = useQuery({ queryKey: ["profile"], queryFn: commands.profileGet });
  // Fetched again whenever the view opens: the room's list (and its cached pictures) arrives
  // after connecting, and no feed batch announces it.
  const catalogQuery = useQuery({
    queryKey: ["gift-catalog"],
    queryFn: commands.giftCatalog,
    staleTime: 0,
  });
  const {
    draft,
    saved,
    lastDeleted,
    load,
    addRule,
    addAction,
    updateAction,
    deleteAction,
    undoDelete,
  } = useMapping();
  const dirty = isDirty({ draft, saved });
  const [choosing, setChoosing] = useState<PaletteTrigger | null>(null);
  const [dragging, setDragging] = useState<PaletteTrigger | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);

  // A profile from the backend replaces the draft only when nothing is being edited.
  const loadedJson = profileQuery.data?.json;
  const parsed = useMemo(() => {
    if (loadedJson === undefined) return null;
    try {
      return { profile: parseProfile(loadedJson), error: null };
    } catch (e: unknown) {
      return { profile: null, error: errorMessage(e) };
    }
  }, [loadedJson]);
  const loadError = parsed?.error ?? null;
  useEffect(() => {
    if (parsed?.profile && !isDirty(useMapping.getState())) load(parsed.profile);
  }, [parsed, load]);

  const save = useMutation({
    mutationFn: (json: string) => commands.profileSave({ json }),
    onSuccess: (doc) => {
      load(parseProfile(doc.json));
      queryClient.setQueryData(["profile"], doc);
      setNotice({ ok: true, text: "Saved. The running engine uses the new rules now." });
    },
    onError: (e: unknown) => {
      setNotice({ ok: false, text: errorMessage(e) });
    },
  });

  const giftNames = useMemo(
    () => new Map((catalogQuery.data?.gifts ?? []).map((g) => [g.id, g.name])),
    [catalogQuery.data],
  );

  function createRule(trigger: PaletteTrigger, actionId: string | null) {
    const p = useMapping.getState().draft;
    if (!p) return;
    if (actionId === null) {
      const action = newCommandAction(
        p,
        `${paletteLabel(trigger)} command`,
        starterTemplate(trigger),
      );
      addRule(newRule({ ...p, actions: [...p.actions, action] }, trigger, action), action);
      setNotice({
        ok: true,
        text: `New rule: ${paletteLabel(trigger)} → a new command (not saved yet).`,
      });
      return;
    }
    const action = p.actions.find((a) => a.id === actionId);
    if (!action) return;
    addRule(newRule(p, trigger, action));
    setNotice({
      ok: true,
      text: `New rule: ${paletteLabel(trigger)} → ${action.name ?? action.id} (not saved yet).`,
    });
  }

  function onDragEnd(e: DragEndEvent) {
    setDragging(null);
    const trigger = (e.active.data.current as { trigger?: PaletteTrigger } | undefined)?.trigger;
    if (!trigger) return;
    if (!e.over) return;
    if (e.over.id === "new-action") {
      createRule(trigger, null);
      return;
    }
    const actionId = (e.over.data.current as { actionId?: string } | undefined)?.actionId;
    if (actionId) createRule(trigger, actionId);
  }

  // A sound file dropped from the desktop becomes a sound action (copied into the data folder).
  useEffect(() => {
    return onFileDrop((paths) => {
      const sounds = paths.filter((p) => SOUND_FILE.test(p));
      if (sounds.length === 0) return;
      void (async () => {
        for (const path of sounds) {
          try {
            const file = await commands.soundImport({ path });
            const p = useMapping.getState().draft;
            if (p) addAction(newSoundAction(p, file.replace(SOUND_FILE, ""), file));
            setNotice({ ok: true, text: `Added the sound ${file} (not saved yet).` });
          } catch (err: unknown) {
            setNotice({ ok: false, text: errorMessage(err) });
          }
        }
      })();
    });
  }, [addAction]);

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, {
      coordinateGetter: jumpBetweenTargets,
      keyboardCodes: { start: ["Space"], cancel: ["Escape"], end: ["Space", "Enter"] },
    }),
  );

  const announcements: Announcements = {
    onDragStart: ({ active }) =>
      `Picked up ${labelOf(active.data.current)}. Arrow keys move between actions.`,
    onDragOver: ({ active, over }) =>
      over
        ? `${labelOf(active.data.current)} is over ${targetLabel(over.id)}.`
        : `${labelOf(active.data.current)} is not over an action.`,
    onDragEnd: ({ active, over }) =>
      over
        ? `Dropped ${labelOf(active.data.current)} on ${targetLabel(over.id)}: a new rule.`
        : `Dropped ${labelOf(active.data.current)} outside any action: nothing changed.`,
    onDragCancel: ({ active }) => `Cancelled. ${labelOf(active.data.current)} was not mapped.`,
  };

  const lanes = useMemo(() => {
    const names = new Set(["minecraft", "sound"]);
    for (const l of draft?.lanes ?? []) names.add(l.name);
    return [...names];
  }, [draft?.lanes]);

  return (
    <>
      <ViewHeader
        title="Mapping"
        subtitle="Drag a trigger onto an action to make a rule. Save to use it live."
      />
      <div className="save-bar" role="region" aria-label="Save">
        <button
          id="profile-save"
          type="button"
          className="primary"
          disabled={!dirty || save.isPending}
          onClick={() => {
            if (draft) save.mutate(toJson(draft));
          }}
        >
          {save.isPending ? "Saving…" : "Save"}
        </button>
        <span id="unsaved" className={dirty ? "badge warn" : "badge"} data-dirty={dirty}>
          {dirty ? "Unsaved changes" : "All changes saved"}
        </span>
        {lastDeleted && (
          <button type="button" className="secondary" id="undo-delete" onClick={undoDelete}>
            Undo delete ({lastDeleted.kind})
          </button>
        )}
        {notice && (
          <span role="status" id="mapping-notice" className={notice.ok ? "ok" : "error"}>
            {notice.text}
          </span>
        )}
      </div>
      {profileQuery.error && (
        <p className="error" role="alert">
          {errorMessage(profileQuery.error)}
        </p>
      )}
      {profileQuery.data?.problem && (
        <p className="error" role="alert">
          The profile file has a problem ({profileQuery.data.problem}); showing the last good copy.
        </p>
      )}
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      {draft && (
        <DndContext
          sensors={sensors}
          collisionDetection={closestCenter}
          onDragStart={(e) => {
            setDragging(
              (e.active.data.current as { trigger?: PaletteTrigger } | undefined)?.trigger ?? null,
            );
          }}
          onDragCancel={() => {
            setDragging(null);
          }}
          onDragEnd={onDragEnd}
          accessibility={{
            announcements,
            screenReaderInstructions: {
              draggable:
                "Press Enter to choose an action for this trigger. Or press Space to pick it up, arrow keys to move between actions, and Space again to drop it. Escape cancels.",
            },
          }}
        >
          <div className="mapping-grid">
            <Palette
              catalog={catalogQuery.data}
              catalogError={catalogQuery.error ? errorMessage(catalogQuery.error) : null}
              onChoose={setChoosing}
            />
            <section className="panel" aria-label="Actions">
              <div className="panel-title">
                <h2>Actions</h2>
                <div className="row push-right">
                  <button
                    type="button"
                    className="secondary small"
                    id="new-command"
                    onClick={() => {
                      addAction(newCommandAction(draft, "New command", "say Hello {user}!"));
                    }}
                  >
                    + Command
                  </button>
                  <button
                    type="button"
                    className="secondary small"
                    id="new-sound"
                    onClick={() => {
                      addAction(newSoundAction(draft, "New sound", "fanfare.wav"));
                    }}
                  >
                    + Sound
                  </button>
                </div>
              </div>
              <ul className="actions" id="action-list">
                {draft.actions.map((a) => (
                  <ActionCard
                    key={a.id}
                    action={a}
                    lanes={lanes}
                    usedBy={draft.rules.filter((r) => r.actions.includes(a.id)).length}
                    onChange={(patch) => {
                      updateAction(a.id, patch);
                    }}
                    onDelete={() => {
                      deleteAction(a.id);
                    }}
                    onPlay={(file, volume) => {
                      commands.soundPlay({ file, volume }).then(
                        () => {
                          setNotice({ ok: true, text: `Playing ${file}` });
                        },
                        (e: unknown) => {
                          setNotice({ ok: false, text: errorMessage(e) });
                        },
                      );
                    }}
                  />
                ))}
              </ul>
              <NewActionZone />
            </section>
          </div>
          <RulesPanel profile={draft} dirty={dirty} giftNames={giftNames} />
          <DragOverlay dropAnimation={null}>
            {dragging ? <div className="drag-chip">{paletteLabel(dragging)}</div> : null}
          </DragOverlay>
        </DndContext>
      )}
      {choosing && (
        <ActionChooser
          trigger={choosing}
          onClose={() => {
            setChoosing(null);
          }}
          onPick={(actionId) => {
            createRule(choosing, actionId);
            setChoosing(null);
          }}
        />
      )}
    </>
  );
}

function labelOf(data: unknown): string {
  const t = (data as { trigger?: PaletteTrigger } | undefined)?.trigger;
  return t ? paletteLabel(t) : "the trigger";
}

function targetLabel(id: string | number): string {
  const s = String(id);
  if (s === "new-action") return "“new command”";
  const actionId = s.replace(/^action:/, "");
  const a = useMapping.getState().draft?.actions.find((x) => x.id === actionId);
  return `action ${a?.name ?? actionId}`;
}
