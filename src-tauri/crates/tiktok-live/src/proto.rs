//! Generated protobuf types for the webcast messages in `proto/webcast.proto`.
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/webcast.rs"));
