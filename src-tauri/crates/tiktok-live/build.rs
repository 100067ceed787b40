// Compiles ../../../proto/*.proto with the pure-Rust protox parser, so no system protoc is needed.
use std::path::PathBuf;

fn main() {
    // Read at run time, not with env!(): a build script compiled in one checkout can be reused
    // by another that shares the target directory, and must read that checkout's proto.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let proto_dir = PathBuf::from(manifest).join("../../../proto");
    let file = proto_dir.join("webcast.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&proto_dir]).expect("proto/webcast.proto must compile");
    prost_build::Config::new()
        .compile_fds(fds)
        .expect("prost code generation");
}
