//! The reference HTTP server for verify (being built).
#![forbid(unsafe_code)]

fn main() {
    eprintln!("verify-server is not built yet");
    std::process::exit(1);
}
