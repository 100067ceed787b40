fn main() {
    // Reads the root tauri.conf.json, capabilities/ and icons/ (build scripts run in the package root).
    tauri_build::build();
}
