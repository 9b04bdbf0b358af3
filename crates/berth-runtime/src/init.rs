//! `berth init` (mounted as /sbin/docker-init for `--init`): a tiny tini. PID 1 in the
//! container runs the command as its child, forwards the signals it gets to it, reaps
//! every zombie (orphans are reparented to PID 1) and exits with the child's status,
//! 128+N for signal N, as tini does.

use std::process::Command;

use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Errors before the child runs.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// No command given.
    #[error("usage: docker-init [--] COMMAND [ARGS...]")]
    Usage,
    /// The command could not be started (tini's wording).
    #[error("exec {0} failed")]
    Spawn(String, #[source] std::io::Error),
}

/// Signals tini does not forward: the synchronous ones and SIGCHLD (which is ours).
fn forwarded(s: Signal) -> bool {
    !matches!(
        s,
        Signal::SIGCHLD
            | Signal::SIGSEGV
            | Signal::SIGBUS
            | Signal::SIGFPE
            | Signal::SIGILL
            | Signal::SIGTRAP
            | Signal::SIGSYS
            | Signal::SIGKILL
            | Signal::SIGSTOP
            | Signal::SIGTTIN
            | Signal::SIGTTOU
            | Signal::SIGTSTP
    )
}

/// Runs `args` (`[--] cmd args…`) and returns the exit status to use.
pub fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("[FATAL tini (berth)] {e}");
            match e {
                InitError::Spawn(_, ref io) if io.kind() == std::io::ErrorKind::NotFound => 127,
                InitError::Spawn(..) => 126,
                InitError::Usage => 1,
            }
        }
    }
}

fn run(args: &[String]) -> Result<i32, InitError> {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let (cmd, rest) = args.split_first().ok_or(InitError::Usage)?;
    // Block everything we forward before the child exists, then wait for signals
    // synchronously; the child gets an empty mask and default SIGPIPE back.
    let mut all = SigSet::all();
    all.remove(Signal::SIGSEGV);
    all.remove(Signal::SIGBUS);
    all.remove(Signal::SIGFPE);
    all.remove(Signal::SIGILL);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), None);
    let mut command = Command::new(cmd);
    command.args(rest);
    crate::sys::clean_signals(&mut command);
    let child = command
        .spawn()
        .map_err(|e| InitError::Spawn(cmd.clone(), e))?;
    let child = Pid::from_raw(child.id() as i32);
    loop {
        let sig = match all.wait() {
            Ok(s) => s,
            Err(_) => continue,
        };
        if sig != Signal::SIGCHLD {
            if forwarded(sig) {
                let _ = kill(child, sig);
            }
            continue;
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, c)) if p == child => return Ok(c),
                Ok(WaitStatus::Signaled(p, s, _)) if p == child => return Ok(128 + s as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}
