//! The Simulate panel and "test-fire a rule": synthetic events handed to the running engine,
//! so they take the real path (matching, lanes, RCON, sound). They come from a test viewer
//! whose handle marks them in the log and the queue.

use std::sync::atomic::{AtomicU64, Ordering};

use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::rules::Trigger;
use livetrigger_engine::engine::Input;
use serde::Deserialize;
use tauri::{AppHandle, Manager, Runtime};
use ts_rs::TS;

use crate::error::{ErrorCode, IpcError};

/// The handle of the viewer behind every simulated event.
pub const TEST_HANDLE: &str = "livetrigger.test";

/// Ids far above TikTok's, so simulated streaks never meet real ones.
static NEXT_ID: AtomicU64 = AtomicU64::new(9_100_000_000_000_000_000);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// What the Simulate panel fires.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SimulateRequest {
    /// A gift; `count` units, sent as a streak (1, 2, … then the final) when `streak`.
    #[serde(rename_all = "camelCase")]
    Gift {
        gift_id: u32,
        name: String,
        coins: u32,
        count: u32,
        streak: bool,
    },
    Follow,
    Share,
    Join,
    Subscribe,
    /// A burst of likes; `total` is the room's running total after it.
    #[serde(rename_all = "camelCase")]
    Likes {
        count: u32,
        total: u32,
    },
    /// A chat message (e.g. `!tnt`).
    Chat {
        text: String,
    },
}

fn viewer() -> Viewer {
    Viewer {
        id: 9_100_000_000_000_000_000,
        unique_id: TEST_HANDLE.into(),
        nickname: "Test viewer".into(),
        follower_count: Some(1000),
        is_follower: true,
        is_moderator: true,
        is_subscriber: true,
    }
}

fn input(payload: Payload) -> Input {
    Input {
        msg_id: next_id(),
        is_history: false,
        user: Some(viewer()),
        payload,
    }
}

/// The inputs one request stands for.
pub fn inputs(req: &SimulateRequest) -> Result<Vec<Input>, IpcError> {
    Ok(match req {
        SimulateRequest::Gift {
            gift_id,
            name,
            coins,
            count,
            streak,
        } => {
            if *count == 0 || *count > 10_000 {
                return Err(IpcError::new(
                    ErrorCode::InvalidInput,
                    "Send between 1 and 10,000 gifts",
                ));
            }
            let group_id = next_id();
            let gift = |repeat_count: u32, delta: u32, settled: Option<(u32, Settle)>| {
                input(Payload::Gift(GiftIn {
                    gift_id: u64::from(*gift_id),
                    name: name.clone(),
                    coins: *coins,
                    streakable: *streak,
                    group_id,
                    streak_generation: 0,
                    repeat_count,
                    delta,
                    settled,
                }))
            };
            if *streak {
                let mut out: Vec<Input> = (1..=*count).map(|n| gift(n, 1, None)).collect();
                out.push(gift(*count, 0, Some((*count, Settle::Final))));
                out
            } else {
                vec![gift(*count, *count, Some((*count, Settle::Final)))]
            }
        }
        SimulateRequest::Follow => vec![input(Payload::Follow)],
        SimulateRequest::Share => vec![input(Payload::Share)],
        SimulateRequest::Join => vec![input(Payload::Join)],
        SimulateRequest::Subscribe => vec![input(Payload::Subscribe)],
        SimulateRequest::Likes { count, total } => vec![input(Payload::Like {
            count: *count,
            total: u64::from(*total),
        })],
        SimulateRequest::Chat { text } => vec![input(Payload::Chat { text: text.clone() })],
    })
}

/// An event that fires `trigger` (for "test-fire").
pub fn request_for(trigger: &Trigger) -> Result<SimulateRequest, IpcError> {
    let gift = |gift_id: u32, name: String, coins: u32| SimulateRequest::Gift {
        gift_id,
        name,
        coins,
        count: 1,
        streak: false,
    };
    Ok(match trigger {
        Trigger::Gift { name, id } => gift(
            id.and_then(|i| u32::try_from(i).ok()).unwrap_or(0),
            name.clone().unwrap_or_default(),
            1,
        ),
        Trigger::GiftCoins {
            unit_coins_at_least,
            streak_coins_at_least,
            ..
        } => {
            // Each unit worth the rule's minimum, and enough units for a streak-value rule
            // (a 1-coin unit when the rule only asks about the streak).
            let coins = unit_coins_at_least.unwrap_or(1).max(1);
            let count = streak_coins_at_least
                .map_or(1, |v| v.div_ceil(u64::from(coins)))
                .clamp(1, 10_000);
            SimulateRequest::Gift {
                gift_id: 0,
                name: "Test gift".into(),
                coins,
                count: u32::try_from(count).unwrap_or(10_000),
                streak: false,
            }
        }
        Trigger::Follow => SimulateRequest::Follow,
        Trigger::Share => SimulateRequest::Share,
        Trigger::Join => SimulateRequest::Join,
        Trigger::Subscribe => SimulateRequest::Subscribe,
        Trigger::Likes { every, per_user } => {
            let n = every.or(*per_user).unwrap_or(1);
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            SimulateRequest::Likes { count: n, total: n }
        }
        Trigger::ChatCommand { command } => SimulateRequest::Chat {
            text: format!("{command} test"),
        },
        _ => {
            return Err(IpcError::new(
                ErrorCode::InvalidInput,
                "This trigger cannot be test-fired; use the Simulate panel",
            ))
        }
    })
}

async fn submit<R: Runtime>(app: &AppHandle<R>, req: &SimulateRequest) -> Result<u32, IpcError> {
    let inputs = inputs(req)?;
    let engine = app
        .state::<crate::engine::EngineState>()
        .handle(app)
        .await?;
    let n = inputs.len();
    for i in inputs {
        engine
            .submit_input(i)
            .await
            .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))?;
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn note<R: Runtime>(app: &AppHandle<R>, text: String) {
    app.state::<crate::feed::FeedHub>().note("test", text);
}

/// Fires a simulated event through the real pipeline. Returns the number of messages sent.
#[tauri::command]
pub async fn simulate<R: Runtime>(
    app: AppHandle<R>,
    request: SimulateRequest,
) -> Result<u32, IpcError> {
    let n = submit(&app, &request).await?;
    note(&app, format!("test event: {}", describe(&request)));
    Ok(n)
}

/// Fires one event that matches the saved rule `rule_id`.
#[tauri::command]
pub async fn rule_test_fire<R: Runtime>(
    app: AppHandle<R>,
    rule_id: String,
) -> Result<u32, IpcError> {
    let data_dir = app.state::<crate::paths::AppPaths>().data_dir.clone();
    let (profile, _) = crate::engine::load_profile(&data_dir)?;
    let rule = profile
        .rules
        .iter()
        .find(|r| r.id == rule_id)
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::InvalidInput,
                format!("Save the rule first: there is no saved rule {rule_id:?}"),
            )
        })?;
    let req = request_for(&rule.trigger)?;
    let n = submit(&app, &req).await?;
    note(
        &app,
        format!("test-fire of rule {rule_id}: {}", describe(&req)),
    );
    Ok(n)
}

fn describe(req: &SimulateRequest) -> String {
    match req {
        SimulateRequest::Gift {
            name,
            count,
            streak,
            ..
        } => format!(
            "{name} ×{count}{}",
            if *streak { " as a streak" } else { "" }
        ),
        SimulateRequest::Follow => "follow".into(),
        SimulateRequest::Share => "share".into(),
        SimulateRequest::Join => "join".into(),
        SimulateRequest::Subscribe => "subscribe".into(),
        SimulateRequest::Likes { count, .. } => format!("{count} likes"),
        SimulateRequest::Chat { text } => format!("chat {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_is_sent_unit_by_unit_and_settles_once() {
        let inputs = inputs(&SimulateRequest::Gift {
            gift_id: 5655,
            name: "Rose".into(),
            coins: 1,
            count: 3,
            streak: true,
        })
        .unwrap();
        assert_eq!(inputs.len(), 4);
        let settled: Vec<_> = inputs
            .iter()
            .filter_map(|i| match &i.payload {
                Payload::Gift(g) => g.settled,
                _ => None,
            })
            .collect();
        assert_eq!(settled, vec![(3, Settle::Final)]);
        assert!(inputs
            .iter()
            .all(|i| i.user.as_ref().unwrap().unique_id == TEST_HANDLE));
        assert!(super::inputs(&SimulateRequest::Gift {
            gift_id: 1,
            name: "x".into(),
            coins: 1,
            count: 0,
            streak: false
        })
        .is_err());
    }

    #[test]
    fn test_fire_builds_a_matching_event() {
        let req = request_for(&Trigger::ChatCommand {
            command: "!tnt".into(),
        })
        .unwrap();
        assert!(matches!(req, SimulateRequest::Chat { ref text } if text == "!tnt test"));
        assert!(request_for(&Trigger::StreamEnd).is_err());
        let big = request_for(&Trigger::GiftCoins {
            unit_coins_at_least: Some(30),
            unit_coins_at_most: None,
            streak_coins_at_least: Some(100),
        })
        .unwrap();
        assert!(
            matches!(
                big,
                SimulateRequest::Gift {
                    coins: 30,
                    count: 4,
                    ..
                }
            ),
            "{big:?}"
        );
    }
}
