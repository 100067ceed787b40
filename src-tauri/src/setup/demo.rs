//! "Try the demo stream": the webcast simulator runs inside the app on a loopback port and the
//! real client connects to it, so a new streamer sees gifts, follows and chat commands flow
//! through their rules without a TikTok account or a Minecraft server.

use std::net::SocketAddr;

use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;
use webcast_sim::{Script, SimConfig, SimHandle, Simulator, Step};

use crate::error::{ErrorCode, IpcError};
use crate::live::{ConnectRequest, LiveSessions};
use crate::status::StatusHub;

/// Pause between two steps of the demo, so the stream can be watched as it happens.
const STEP_MS: u64 = 300;

#[derive(Default)]
pub struct DemoState {
    sim: tokio::sync::Mutex<Option<SimHandle>>,
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
/// same totals (`webcast_sim::script::demo().expected()`).
pub fn lively_script() -> Script {
    let demo = webcast_sim::script::demo();
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
        let config = SimConfig::with_script(lively_script());
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

    #[test]
    fn the_lively_demo_has_the_demo_streams_totals() {
        let lively = lively_script();
        let plain = webcast_sim::script::demo();
        assert_eq!(lively.expected(), plain.expected());
        assert!(lively.steps.len() > plain.steps.len());
    }
}
