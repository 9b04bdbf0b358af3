//! berth: the CLI, the daemon (`berth daemon`) and the internal `shim`/`init` entry points.

mod cli;
mod format;
mod internal;
mod sys;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = internal::run_internal(&args) {
        std::process::exit(code);
    }
    std::process::exit(cli::main(args));
}
