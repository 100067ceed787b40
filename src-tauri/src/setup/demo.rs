//! "Try the demo stream": the webcast simulator runs inside the app on a loopback port and the
//! real client connects to it, so a new streamer sees gifts, follows and chat commands flow
//! through their rules without a TikTok account or a Minecraft server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;
use webcast_sim::{Msg, Script, SimConfig, SimHandle, Simulator, Step};

use crate::error::{ErrorCode, IpcError};
use crate::live::{ConnectRequest, LiveSessions};
use crate::status::StatusHub;

/// Pause between two steps of the demo, so the stream can be watched as it happens.
const STEP_MS: u64 = 300;

#[derive(Default)]
pub struct DemoState {
    sim: tokio::sync::Mutex<Option<SimHandle>>,
    runs: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DemoView {
    pub running: bool,
    /// The simulator's address (loopback).
    pub url: Option<String>,
    /// The @user to connect to.
    pub target: String,
}

/// The built-in demo stream, slowed down to a watchable pace: the same messages, hence the
/// same totals (`webcast_sim::script::demo().expected()`). `run` makes its gift streaks new
/// ones: the engine remembers streaks it acted on, so a second demo would otherwise be taken
/// for a replay of the first and run nothing.
pub fn lively_script(run: u64) -> Script {
    let mut demo = webcast_sim::script::demo();
    let fresh = |m: &mut Msg| {
        if let Msg::Gift { group_id, .. } = m {
            if *group_id != 0 {
                *group_id = group_id.wrapping_add(run.wrapping_mul(1_000));
            }
        }
    };
    demo.history.iter_mut().for_each(fresh);
    for step in &mut demo.steps {
        if let Step::Frame { messages } = step {
            messages.iter_mut().for_each(fresh);
        }
    }
    // A streamer trying the app needs no protocol torture test: the undecodable and unknown
    // messages (there for the client's tests) would only show up as errors in the log.
    demo.steps.retain_mut(|step| match step {
        Step::Frame { messages } => {
            messages.retain(|m| !matches!(m, Msg::Corrupt { .. } | Msg::Unknown { .. }));
            !messages.is_empty()
        }
        _ => true,
    });
    let mut steps = Vec::with_capacity(demo.steps.len() * 2);
    for step in demo.steps {
        let is_wait = matches!(step, Step::Wait { .. });
        steps.push(step);
        if !is_wait {
            steps.push(Step::Wait { ms: STEP_MS });
        }
    }
    Script {
        history: demo.history,
        steps,
    }
}

impl DemoState {
    pub async fn start<R: Runtime>(&self, app: &AppHandle<R>) -> Result<DemoView, IpcError> {
        let mut sim = self.sim.lock().await;
        if let Some(old) = sim.take() {
            crate::live::disconnect(&app.state::<LiveSessions>());
            old.shutdown().await;
        }
        // A run number no earlier run of this data folder used (seconds since the epoch, plus
        // the runs of this session): fresh message ids, streaks and room for every demo.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let run = now + self.runs.fetch_add(1, Ordering::Relaxed);
        let mut config = SimConfig::with_script(lively_script(run));
        config.msg_id_offset = run.wrapping_mul(10_000) % 1_000_000_000_000_000_000;
        config.room_id = webcast_sim::DEFAULT_ROOM_ID + run % 1_000_000_000;
        let target = format!("@{}", config.unique_id);
        let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
        let handle = Simulator::start(config, addr).await.map_err(|e| {
            IpcError::new(
                ErrorCode::Internal,
                format!("the demo stream cannot start: {e}"),
            )
        })?;
        let url = handle.base_url();
        crate::live::connect(
            app,
            &app.state::<LiveSessions>(),
            &app.state::<StatusHub>(),
            ConnectRequest {
                target: target.clone(),
                sign_url: Some(url.clone()),
                api_key: None,
                web_url: Some(url.clone()),
                session_id: None,
                trust_sign_server_with_session: false,
            },
        )?;
        tracing::info!(%url, "demo stream started");
        *sim = Some(handle);
        Ok(DemoView {
            running: true,
            url: Some(url),
            target,
        })
    }

    pub async fn stop<R: Runtime>(&self, app: &AppHandle<R>) -> DemoView {
        if let Some(sim) = self.sim.lock().await.take() {
            crate::live::disconnect(&app.state::<LiveSessions>());
            sim.shutdown().await;
            tracing::info!("demo stream stopped");
        }
        self.view().await
    }

    pub async fn view(&self) -> DemoView {
        let sim = self.sim.lock().await;
        DemoView {
            running: sim.is_some(),
            url: sim.as_ref().map(SimHandle::base_url),
            target: format!("@{}", webcast_sim::DEFAULT_USER),
        }
    }
}

#[tauri::command]
pub async fn demo_start<R: Runtime>(
    app: AppHandle<R>,
    demo: State<'_, DemoState>,
) -> Result<DemoView, IpcError> {
    demo.start(&app).await
}

#[tauri::command]
pub async fn demo_stop<R: Runtime>(
    app: AppHandle<R>,
    demo: State<'_, DemoState>,
) -> Result<DemoView, IpcError> {
    Ok(demo.stop(&app).await)
}

#[tauri::command]
pub async fn demo_status(demo: State<'_, DemoState>) -> Result<DemoView, IpcError> {
    Ok(demo.view().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_ids(s: &Script) -> Vec<u64> {
        s.steps
            .iter()
            .flat_map(|st| match st {
                Step::Frame { messages } => messages.clone(),
                _ => Vec::new(),
            })
            .filter_map(|m| match m {
                Msg::Gift { group_id, .. } => Some(group_id),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_lively_demo_has_the_demo_streams_totals_with_its_own_streaks() {
        let plain = webcast_sim::script::demo().expected();
        let first = lively_script(1_700_000_000);
        let second = lively_script(1_700_000_001);
        // Everything but the two protocol oddities.
        let without_oddities = webcast_sim::Expected {
            messages: plain.messages - plain.unknown - plain.corrupt,
            unknown: 0,
            corrupt: 0,
            ..plain.clone()
        };
        assert_eq!(first.expected(), without_oddities);
        assert_eq!(second.expected(), without_oddities);
        assert_eq!(plain.gift_units, first.expected().gift_units);
        assert!(first.steps.len() > webcast_sim::script::demo().steps.len());
        let (a, b) = (group_ids(&first), group_ids(&second));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            // Non-streak gifts keep group 0; every streak is a different one.
            assert!((*x == 0 && *y == 0) || x != y, "{x} {y}");
        }
    }
}
