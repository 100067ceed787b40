//! The same port answers HTTPS (self-signed) as well as plain HTTP, because some third-party
//! clients switch to https by themselves for loopback hosts.

use webcast_sim::{SimConfig, Simulator};

#[tokio::test]
async fn the_same_port_serves_http_and_https() {
    let sim = Simulator::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = sim.addr().port();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .build()
        .unwrap();
    for scheme in ["http", "https"] {
        let url = format!("{scheme}://127.0.0.1:{port}/@simstreamer/live");
        let resp = client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(resp.status(), 200, "{url}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("SIGI_STATE"), "{url}");
    }
    // A client that verifies certificates refuses the self-signed one: it is only for tests.
    let strict = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(strict
        .get(format!("https://127.0.0.1:{port}/@simstreamer/live"))
        .send()
        .await
        .is_err());
    let rec = sim.recorded();
    assert_eq!(
        rec.http_requests
            .iter()
            .filter(|r| r.path == "/@simstreamer/live")
            .count(),
        2
    );
}
