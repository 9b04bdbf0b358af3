//! Development stand-in for the `berth` binary's internal commands (`shim`, `init`), so
//! the shim can be exercised while other crates of the workspace are being changed.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.get(1).map(String::as_str) {
        Some("shim") => berth_runtime::shim::main(&args[2..]),
        Some("init") => berth_runtime::init::main(&args[2..]),
        _ => 2,
    };
    std::process::exit(code);
}
