//! Internal entry points that must run before any tokio runtime or thread exists:
//! `berth shim …` (the per-container monitor) and `berth init …` (`--init`, also reached
//! as `/sbin/docker-init` when the binary is bind-mounted there).

/// Runs `berth shim …` or `berth init …` and returns its exit status; `None` for any
/// other command. `args` is the full argv (`args[0]` is the program name).
pub fn run_internal(args: &[String]) -> Option<i32> {
    let argv0 = args.first().map(String::as_str).unwrap_or("");
    if argv0.rsplit('/').next() == Some("docker-init") {
        return Some(berth_runtime::init::main(&args[1..]));
    }
    match args.get(1).map(String::as_str) {
        Some("shim") => Some(berth_runtime::shim::main(&args[2..])),
        Some("init") => Some(berth_runtime::init::main(&args[2..])),
        _ => None,
    }
}
