// Compiles ../../../proto/*.proto with the pure-Rust protox parser, so no system protoc is needed.
use std::path::PathBuf;

fn main() {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../proto");
    let file = proto_dir.join("webcast.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&proto_dir]).expect("proto/webcast.proto must compile");
    prost_build::Config::new()
        .compile_fds(fds)
        .expect("prost code generation");
}
