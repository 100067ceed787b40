//! A tiny raw client for driving the simulator in tests: plain HTTP via reqwest and a
//! tokio-tungstenite websocket, no TikTok client logic.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tiktok_live::frame::{self, payload_type, FrameDecoder};
use tiktok_live::proto::{FetchResult, PushFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use webcast_sim::{SimConfig, SimHandle, Simulator};

pub const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
/// Generous: only reached when something is broken.
pub const LIMIT: Duration = Duration::from_secs(15);

pub async fn start(config: SimConfig) -> SimHandle {
    Simulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

pub fn fast(config: SimConfig) -> SimConfig {
    SimConfig {
        time_scale: 0.0,
        end_grace: Duration::from_millis(50),
        ..config
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

pub async fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let client = reqwest::Client::new();
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("HTTP request");
    Reply {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.unwrap().to_vec(),
    }
}

pub fn sign_url(sim: &SimHandle) -> String {
    format!(
        "{}/webcast/fetch?client=ttlive-python&room_id={}&user_agent={}&platform=web&client_enter=true",
        sim.base_url(),
        sim.config().room_id,
        UA.replace(' ', "%20").replace(';', "%3B"),
    )
}

/// Signs like TL7 and decodes the protobuf body.
pub async fn sign(sim: &SimHandle) -> (FetchResult, Reply) {
    sign_at(&sim.base_url(), sim).await
}

/// Signs like TL7 at this sign-server base URL.
pub async fn sign_at(base: &str, sim: &SimHandle) -> (FetchResult, Reply) {
    let url = sign_url(sim).replacen(&sim.base_url(), base, 1);
    let reply = get(&url, &[("user-agent", "TikTokLive.py/7.0.1")]).await;
    assert_eq!(reply.status, 200, "sign failed: {}", reply.text());
    let result = FrameDecoder::new()
        .fetch_initial(&reply.body)
        .expect("sign body is a fetch result");
    (result, reply)
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub fn ws_url(fetch: &FetchResult, room_id: u64, gzip: bool) -> String {
    format!(
        "{}?aid=1988&version_code=180800&room_id={room_id}&cursor={}&internal_ext={}&compress={}&version_code=270000",
        fetch.push_server,
        fetch.cursor,
        fetch.internal_ext,
        if gzip { "gzip" } else { "" },
    )
}

pub async fn connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("user-agent", UA.parse().unwrap());
    req.headers_mut().insert(
        "cookie",
        "tt-target-idc=useast1a; ttwid=fake-ttwid".parse().unwrap(),
    );
    let (ws, _resp) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// Signs and connects; sends `im_enter_room` when asked.
pub async fn sign_and_connect(sim: &SimHandle, gzip: bool, enter: bool) -> (FetchResult, Ws) {
    let (fetch, _) = sign(sim).await;
    let mut ws = connect(&ws_url(&fetch, sim.config().room_id, gzip))
        .await
        .expect("handshake accepted");
    if enter {
        send(&mut ws, frame::enter_room_frame(sim.config().room_id, 0)).await;
    }
    (fetch, ws)
}

pub async fn send(ws: &mut Ws, bytes: Vec<u8>) {
    ws.send(Message::binary(bytes)).await.expect("send");
}

/// What the next websocket event was.
#[derive(Debug)]
pub enum Got {
    Frame(PushFrame, Vec<u8>),
    Text(String),
    Close(Option<u16>),
    /// The stream ended or failed without a close frame (1006 for a browser).
    Abnormal(String),
}

pub async fn next(ws: &mut Ws) -> Got {
    loop {
        let item = tokio::time::timeout(LIMIT, ws.next())
            .await
            .expect("websocket event within the limit");
        return match item {
            None => Got::Abnormal("stream ended".into()),
            Some(Err(e)) => Got::Abnormal(e.to_string()),
            Some(Ok(Message::Binary(b))) => {
                let f = PushFrame::decode(b.as_ref()).expect("server sends push frames");
                Got::Frame(f, b.to_vec())
            }
            Some(Ok(Message::Text(t))) => Got::Text(t.to_string()),
            Some(Ok(Message::Close(c))) => Got::Close(c.map(|c| u16::from(c.code))),
            Some(Ok(_)) => continue,
        };
    }
}

/// The next `msg` frame (skipping hb / enter-room replies), or what ended the socket.
pub async fn next_msg(ws: &mut Ws) -> Result<(PushFrame, FetchResult), Got> {
    loop {
        match next(ws).await {
            Got::Frame(f, _) if f.payload_type == payload_type::MSG => {
                let result = FrameDecoder::new().fetch_result(&f).expect("msg payload");
                return Ok((f, result));
            }
            Got::Frame(..) => continue,
            other => return Err(other),
        }
    }
}

/// Reads `msg` frames until the socket ends, acking each; returns the results and the end.
pub async fn read_all(ws: &mut Ws) -> (Vec<(PushFrame, FetchResult)>, Got) {
    let mut out = Vec::new();
    loop {
        match next_msg(ws).await {
            Ok((f, r)) => {
                if r.need_ack {
                    // The server may already be closing; a failed ack shows up in its record.
                    let _ = ws
                        .send(Message::binary(frame::ack_frame(f.log_id, &r.internal_ext)))
                        .await;
                }
                out.push((f, r));
            }
            Err(end) => return (out, end),
        }
    }
}

pub fn close_code(code: u16) -> CloseCode {
    CloseCode::from(code)
}
