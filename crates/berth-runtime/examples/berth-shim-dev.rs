//! Development stand-in for the `berth` binary's internal entry points (`berth shim`,
//! `berth init`, argv0 `docker-init`), dispatched like `crates/berth/src/internal.rs`, so
//! the shim can be tested while the rest of the workspace does not build:
//!
//! ```sh
//! cargo build -p berth-runtime --example berth-shim-dev
//! BERTH_BIN=target/debug/examples/berth-shim-dev cargo test -p berth --test runtime_shim
//! ```

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().map(String::as_str).unwrap_or("");
    let code = if argv0.rsplit('/').next() == Some("docker-init") {
        berth_runtime::init::main(&args[1..])
    } else {
        match args.get(1).map(String::as_str) {
            Some("shim") => berth_runtime::shim::main(&args[2..]),
            Some("init") => berth_runtime::init::main(&args[2..]),
            _ => {
                eprintln!("usage: berth-shim-dev shim|init ARGS...");
                2
            }
        }
    };
    std::process::exit(code);
}
