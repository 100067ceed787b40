//! Queue items and their lifecycle: queued → running → done | failed | dropped | skipped, plus
//! `interrupted` for an item that was running when the process died.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::input::EventKind;
use super::rules::{Action, Step};
use crate::outputs::template::{RenderError, Template, TemplateError, TemplateEvent};

/// Wall-clock milliseconds, for timestamps people read. Never used for pacing or matching,
/// which run on tokio's clock.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Loudest a planned sound may be (a step's volume times the master volume).
pub const MAX_VOLUME: f32 = 2.0;

/// One step, ready to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PlannedStep {
    Command { command: String },
    Sound { file: String, volume: f32 },
    Delay { ms: u64 },
}

/// Where an item is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ItemStatus {
    Queued,
    Running,
    Done,
    Failed {
        reason: String,
        /// A command reached the server but its reply was lost: it may have run.
        may_have_run: bool,
    },
    Dropped {
        reason: String,
    },
    /// Not run: the user skipped it, or (for a paid unit) a filter, a cooldown or the
    /// per-streak cap stopped it. Paid units always leave such a trace.
    Skipped {
        #[serde(default)]
        reason: String,
    },
    /// It waited longer than its lane allows (`maxAgeMs`, `unpaidMaxAgeMs`) and was not run.
    Expired {
        reason: String,
    },
    /// It was running when the app stopped unexpectedly; it may have run, so it is not run
    /// again unless the user asks.
    Interrupted,
}

impl ItemStatus {
    pub fn name(&self) -> &'static str {
        match self {
            ItemStatus::Queued => "queued",
            ItemStatus::Running => "running",
            ItemStatus::Done => "done",
            ItemStatus::Failed { .. } => "failed",
            ItemStatus::Dropped { .. } => "dropped",
            ItemStatus::Skipped { .. } => "skipped",
            ItemStatus::Expired { .. } => "expired",
            ItemStatus::Interrupted => "interrupted",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            ItemStatus::Failed { reason, .. }
            | ItemStatus::Dropped { reason }
            | ItemStatus::Expired { reason } => Some(reason),
            ItemStatus::Skipped { reason } if !reason.is_empty() => Some(reason),
            ItemStatus::Skipped { .. } => None,
            ItemStatus::Interrupted => Some("interrupted — may have run"),
            _ => None,
        }
    }

    pub fn is_final(&self) -> bool {
        !matches!(self, ItemStatus::Queued | ItemStatus::Running)
    }
}

/// One run of one action for one event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub id: u64,
    pub lane: String,
    pub rule_id: String,
    pub action_id: String,
    pub kind: EventKind,
    /// What happened, for people.
    pub event: String,
    pub msg_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub paid: bool,
    /// The values its templates were rendered with (`{count}` grows when items coalesce).
    pub vars: TemplateEvent,
    pub steps: Vec<PlannedStep>,
    pub queued_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<u64>,
    /// Never merged into another waiting item (each run of a `runPerThreshold` likes rule
    /// is one run of its own, as the streamer's profile asks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_separate: bool,
}

impl QueueItem {
    /// The rendered commands, as shown in the queue view.
    pub fn commands(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                PlannedStep::Command { command } => Some(command.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A change of one item, as the app and the CLI see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemUpdate {
    #[serde(serialize_with = "shared")]
    pub item: Arc<QueueItem>,
    pub status: ItemStatus,
    pub at_ms: i64,
}

fn shared<S: serde::Serializer>(item: &Arc<QueueItem>, s: S) -> Result<S::Ok, S::Error> {
    QueueItem::serialize(item, s)
}

/// Why an action could not be prepared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no action {0:?} in the profile")]
    UnknownAction(String),
    #[error("action {action:?}, step {step}: {source}")]
    Render {
        action: String,
        step: usize,
        source: RenderError,
    },
}

/// An action with its templates parsed once.
#[derive(Clone, Debug)]
pub struct CompiledAction {
    pub action: Action,
    templates: Vec<Option<Template>>,
}

/// Every action of a profile, ready to render.
#[derive(Clone, Debug, Default)]
pub struct ActionBook {
    actions: HashMap<String, CompiledAction>,
    /// The profile's `masterVolume`, multiplied into every sound step when it is planned.
    master_volume: f32,
}

impl ActionBook {
    /// Parses every template with `{player}` = `@p`; the error names the action and step.
    pub fn new(actions: &[Action]) -> Result<Self, (String, usize, TemplateError)> {
        Self::with_player(actions, crate::outputs::template::DEFAULT_PLAYER)
    }

    /// Parses every template with the profile's `{player}`.
    pub fn with_player(
        actions: &[Action],
        player: &str,
    ) -> Result<Self, (String, usize, TemplateError)> {
        let mut map = HashMap::new();
        for a in actions {
            let mut templates = Vec::with_capacity(a.steps.len());
            for (i, s) in a.steps.iter().enumerate() {
                templates.push(match s {
                    Step::Command { template } => Some(
                        Template::parse_for(template, player).map_err(|e| (a.id.clone(), i, e))?,
                    ),
                    _ => None,
                });
            }
            map.insert(
                a.id.clone(),
                CompiledAction {
                    action: a.clone(),
                    templates,
                },
            );
        }
        Ok(ActionBook {
            actions: map,
            master_volume: 1.0,
        })
    }

    /// Everything from the profile: its actions, its `{player}` and its master volume.
    pub fn for_profile(
        profile: &super::profile::Profile,
    ) -> Result<Self, (String, usize, TemplateError)> {
        let mut book = Self::with_player(&profile.actions, &profile.minecraft.player)?;
        book.master_volume = profile.sound.master_volume;
        Ok(book)
    }

    pub fn get(&self, id: &str) -> Option<&CompiledAction> {
        self.actions.get(id)
    }

    /// Renders `action` for `vars`.
    pub fn plan(
        &self,
        action: &str,
        vars: &TemplateEvent,
        rng: &mut fastrand::Rng,
    ) -> Result<Vec<PlannedStep>, PlanError> {
        let a = self
            .actions
            .get(action)
            .ok_or_else(|| PlanError::UnknownAction(action.to_owned()))?;
        let mut out = Vec::with_capacity(a.action.steps.len());
        for (i, (step, template)) in a.action.steps.iter().zip(&a.templates).enumerate() {
            out.push(match (step, template) {
                (Step::Command { .. }, Some(t)) => PlannedStep::Command {
                    command: t
                        .render(vars, rng)
                        .map_err(|source| PlanError::Render {
                            action: action.to_owned(),
                            step: i,
                            source,
                        })?
                        .command,
                },
                (Step::Sound { file, volume }, _) => PlannedStep::Sound {
                    file: file.clone(),
                    volume: (volume * self.master_volume).clamp(0.0, MAX_VOLUME),
                },
                (Step::Delay { ms }, _) => PlannedStep::Delay { ms: *ms },
                (Step::Command { .. }, None) => continue,
            });
        }
        Ok(out)
    }
}
