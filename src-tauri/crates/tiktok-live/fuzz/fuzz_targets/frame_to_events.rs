//! Any bytes from the socket: push frame → (gunzip) → fetch result → messages → events.
//! Nothing may panic, and every message becomes an event, an error item, or is skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiktok_live::dispatch::Dispatcher;
use tiktok_live::frame::FrameDecoder;

fuzz_target!(|data: &[u8]| {
    let mut decoder = FrameDecoder::new();
    let mut dispatcher = Dispatcher::default();
    let now = tokio::time::Instant::now();
    // The same bytes as a push frame and as a bare fetch result (the sign server's reply).
    if let Ok(frame) = decoder.push_frame(data) {
        if let Ok(result) = decoder.fetch_result(&frame) {
            for msg in result.messages {
                let _ = dispatcher.dispatch(msg, now);
            }
        }
    }
    if let Ok(result) = decoder.fetch_initial(data) {
        for msg in result.messages {
            let _ = dispatcher.dispatch(msg, now);
        }
    }
    let _ = dispatcher.expire_streaks(now + std::time::Duration::from_secs(3600));
});
