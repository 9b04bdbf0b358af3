//! docker's command-line errors: `unknown flag`, `requires at least 1 argument`,
//! `unknown command`, `flag needs an argument`, `invalid argument … for … flag`, each
//! with the command's usage line and exit code (125 for flag errors, 1 for argument
//! counts and unknown commands), translated from clap's errors.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// How many positional arguments a command takes (cobra's `Args` validators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// `cli.NoArgs`.
    NoArgs,
    /// `cli.ExactArgs(n)`.
    Exact(usize),
    /// `cli.RequiresMinArgs(n)`.
    AtLeast(usize),
    /// `cli.RequiresMaxArgs(n)`.
    AtMost(usize),
}

/// A command's usage (after `berth <path> `) and arity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The usage after the command path.
    pub usage: &'static str,
    /// Positional arguments.
    pub arity: Arity,
}

const fn spec(usage: &'static str, arity: Arity) -> Spec {
    Spec { usage, arity }
}

/// The spec of a command path (`run`, `container ls`, `image rm`…).
pub fn spec_of(path: &str) -> Option<Spec> {
    use Arity::*;
    let (group, cmd) = match path.split_once(' ') {
        Some((g, c)) => (Some(g), c),
        None => (None, path),
    };
    let s = match (group, cmd) {
        (None, "") => spec("[OPTIONS] COMMAND [ARG...]", AtLeast(0)),
        (Some("container") | None, "run" | "create") => {
            spec("[OPTIONS] IMAGE [COMMAND] [ARG...]", AtLeast(1))
        }
        (Some("container") | None, "start" | "stop" | "kill" | "restart" | "rm") => {
            spec("[OPTIONS] CONTAINER [CONTAINER...]", AtLeast(1))
        }
        (Some("container") | None, "wait" | "pause" | "unpause") => {
            spec("CONTAINER [CONTAINER...]", AtLeast(1))
        }
        (Some("container") | None, "logs" | "attach" | "export") => {
            spec("[OPTIONS] CONTAINER", Exact(1))
        }
        (Some("container") | None, "exec") => {
            spec("[OPTIONS] CONTAINER COMMAND [ARG...]", AtLeast(2))
        }
        (Some("container") | None, "rename") => spec("CONTAINER NEW_NAME", Exact(2)),
        (Some("container") | None, "top") => spec("CONTAINER [ps OPTIONS]", AtLeast(1)),
        (None, "ps") | (Some("container"), "ls") => spec("[OPTIONS]", NoArgs),
        (None, "inspect") => spec("[OPTIONS] NAME|ID [NAME|ID...]", AtLeast(1)),
        (Some("container"), "inspect") => spec("[OPTIONS] CONTAINER [CONTAINER...]", AtLeast(1)),
        (None, "images") | (Some("image"), "ls") => spec("[OPTIONS] [REPOSITORY[:TAG]]", AtMost(1)),
        (Some("image"), "inspect") => spec("[OPTIONS] IMAGE [IMAGE...]", AtLeast(1)),
        (None, "rmi") | (Some("image"), "rm") => spec("[OPTIONS] IMAGE [IMAGE...]", AtLeast(1)),
        (None, "tag") | (Some("image"), "tag") => {
            spec("SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", Exact(2))
        }
        (None, "history") | (Some("image"), "history") => spec("[OPTIONS] IMAGE", Exact(1)),
        (None, "import") | (Some("image"), "import") => {
            spec("[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", AtLeast(1))
        }
        (None, "events" | "version" | "info") => spec("[OPTIONS]", NoArgs),
        (None, "daemon") => spec("[OPTIONS]", NoArgs),
        (None, "container") | (None, "image") => spec("", AtLeast(0)),
        _ => return None,
    };
    Some(s)
}

/// Canonical names of group subcommands given by alias.
fn canonical(group: &str, sub: &str) -> String {
    match (group, sub) {
        ("container", "ps" | "list") => "ls".into(),
        ("image", "list") => "ls".into(),
        ("image", "remove") => "rm".into(),
        _ => sub.into(),
    }
}

/// Global flags that take a value.
fn global_takes_value(a: &str) -> bool {
    matches!(a, "-H" | "--host" | "-l" | "--log-level")
}

/// The command path of `args` (argv, with the program name): `""` for none, `"run"`,
/// `"container ls"`; and whether scanning stopped at an unknown global flag.
pub fn command_path(args: &[String]) -> String {
    let mut it = args.iter().skip(1);
    let mut words: Vec<String> = Vec::new();
    while let Some(a) = it.next() {
        if words.is_empty() && a.starts_with('-') {
            if global_takes_value(a) {
                it.next();
                continue;
            }
            if a.starts_with("--host=")
                || a.starts_with("--log-level=")
                || (a.starts_with("-H") && a.len() > 2)
                || (a.starts_with("-l") && a.len() > 2)
                || a == "-D"
                || a == "--debug"
            {
                continue;
            }
            break;
        }
        if a.starts_with('-') {
            // A group has no flags of its own; a flag ends the path.
            break;
        }
        words.push(a.clone());
        let group = words[0].as_str();
        if words.len() == 1 && (group == "container" || group == "image") {
            continue;
        }
        break;
    }
    if words.len() == 2 {
        words[1] = canonical(&words[0], &words[1]);
    }
    words.join(" ")
}

/// A translated error: what to print on stderr and the exit code.
#[derive(Debug, PartialEq, Eq)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// The text, without the final newline.
    pub text: String,
}

fn usage_line(path: &str) -> String {
    let usage = spec_of(path).map(|s| s.usage).unwrap_or("[OPTIONS]");
    if path.is_empty() {
        format!("Usage:  berth {usage}")
    } else if usage.is_empty() {
        format!("Usage:  berth {path}")
    } else {
        format!("Usage:  berth {path} {usage}")
    }
}

fn help_hint(path: &str, see: bool) -> String {
    let verb = if see { "See" } else { "Run" };
    if path.is_empty() {
        format!("{verb} 'berth --help' for more information")
    } else {
        format!("{verb} 'berth {path} --help' for more information")
    }
}

/// A flag error (pflag's), exit 125: `MSG\n\nUsage: …\n\nRun '… --help' …`.
pub fn flag_error(path: &str, msg: &str) -> CliError {
    CliError {
        code: 125,
        text: format!(
            "{msg}\n\n{}\n\n{}",
            usage_line(path),
            help_hint(path, false)
        ),
    }
}

/// An argument-count error, exit 1.
pub fn arity_error(path: &str) -> CliError {
    let arity = spec_of(path).map_or(Arity::NoArgs, |s| s.arity);
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let (what, see) = match arity {
        Arity::NoArgs => ("accepts no arguments".to_string(), false),
        Arity::Exact(n) => (format!("requires {n} {}", plural(n)), false),
        Arity::AtLeast(n) => (format!("requires at least {n} {}", plural(n)), true),
        Arity::AtMost(n) => (format!("requires at most {n} {}", plural(n)), false),
    };
    CliError {
        code: 1,
        text: format!(
            "berth: 'berth {path}' {what}\n\n{}\n\n{}",
            usage_line(path),
            help_hint(path, see)
        ),
    }
}

/// An unknown command, exit 1.
pub fn unknown_command(path: &str, name: &str) -> CliError {
    let full = if path.is_empty() {
        name.to_string()
    } else {
        format!("{path} {name}")
    };
    let mut text = format!("berth: unknown command: berth {full}\n\n");
    if !path.is_empty() {
        text.push_str(&usage_line(path));
        text.push_str("\n\n");
    }
    text.push_str(&help_hint(path, false));
    CliError { code: 1, text }
}

fn context_str(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        other => Some(other.to_string()),
    }
}

/// The clap command of a path.
fn find_command<'a>(root: &'a clap::Command, path: &str) -> Option<&'a clap::Command> {
    let mut cmd = root;
    for w in path.split(' ').filter(|w| !w.is_empty()) {
        cmd = cmd.get_subcommands().find(|c| {
            c.get_name() == w
                || c.get_all_aliases().any(|a| a == w)
                || (w == "ls" && c.get_name() == "ls")
        })?;
    }
    Some(cmd)
}

/// `-n, --last` / `--pids-limit` (pflag's flag name), and whether the value is a bool.
fn flag_names(root: &clap::Command, path: &str, long: &str) -> (String, bool) {
    let arg = find_command(root, path).and_then(|c| {
        c.get_arguments()
            .find(|a| a.get_long() == Some(long) || a.get_id().as_str() == long)
    });
    let is_bool = arg.is_some_and(|a| {
        a.get_possible_values()
            .iter()
            .any(|p| p.get_name() == "true")
    });
    let name = match arg.and_then(|a| a.get_short()) {
        Some(s) => format!("-{s}, --{long}"),
        None => format!("--{long}"),
    };
    (name, is_bool)
}

/// Translates a clap error into docker's wording (`None`: help or version output, which
/// clap prints itself).
pub fn translate(e: &clap::Error, args: &[String], root: &clap::Command) -> Option<CliError> {
    let path = command_path(args);
    let invalid_arg = context_str(e, ContextKind::InvalidArg).unwrap_or_default();
    // `--last <LAST>` → `--last`.
    let arg_name = invalid_arg
        .split([' ', '='])
        .next()
        .unwrap_or("")
        .to_string();
    Some(match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => return None,
        // `berth container`: the help, on stdout, like docker.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            print!("{}", e.render());
            CliError {
                code: 0,
                text: String::new(),
            }
        }
        // `berth`: the same.
        ErrorKind::MissingSubcommand => {
            let mut cmd = find_command(root, &path)
                .cloned()
                .unwrap_or_else(|| root.clone());
            let _ = cmd.print_help();
            CliError {
                code: 0,
                text: String::new(),
            }
        }
        ErrorKind::InvalidSubcommand => {
            let name = context_str(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            let group = if path.starts_with("container") || path.starts_with("image") {
                path.split(' ').next().unwrap_or("").to_string()
            } else {
                String::new()
            };
            unknown_command(&group, &name)
        }
        ErrorKind::UnknownArgument => {
            if let Some(long) = arg_name.strip_prefix("--") {
                flag_error(&path, &format!("unknown flag: --{long}"))
            } else if let Some(short) = arg_name.strip_prefix('-') {
                let c = short.chars().next().unwrap_or('-');
                flag_error(&path, &format!("unknown shorthand flag: '{c}' in -{c}"))
            } else if path.is_empty() {
                unknown_command("", &arg_name)
            } else {
                arity_error(&path)
            }
        }
        ErrorKind::MissingRequiredArgument
        | ErrorKind::TooFewValues
        | ErrorKind::TooManyValues
        | ErrorKind::WrongNumberOfValues => arity_error(&path),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::NoEquals => {
            let value = context_str(e, ContextKind::InvalidValue).unwrap_or_default();
            let long = arg_name.trim_start_matches('-');
            if value.is_empty() && e.kind() != ErrorKind::ValueValidation {
                let (names, _) = flag_names(root, &path, long);
                let typed_long = args.iter().any(|a| a == &format!("--{long}"));
                let msg = match names.split_once(", ") {
                    Some((short, _)) if !typed_long => {
                        let c = short.trim_start_matches('-');
                        format!("flag needs an argument: '{c}' in -{c}")
                    }
                    _ => format!("flag needs an argument: --{long}"),
                };
                flag_error(&path, &msg)
            } else {
                let (names, is_bool) = flag_names(root, &path, long);
                let why = if is_bool {
                    format!("strconv.ParseBool: parsing \"{value}\": invalid syntax")
                } else {
                    format!("strconv.ParseInt: parsing \"{value}\": invalid syntax")
                };
                flag_error(
                    &path,
                    &format!("invalid argument \"{value}\" for \"{names}\" flag: {why}"),
                )
            }
        }
        _ => {
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            flag_error(&path, &first)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        std::iter::once("berth")
            .chain(s.split(' ').filter(|w| !w.is_empty()))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn paths() {
        assert_eq!(command_path(&argv("-H unix:///x run -it busybox")), "run");
        assert_eq!(command_path(&argv("--host=unix:///x -D ps -a")), "ps");
        assert_eq!(command_path(&argv("container ps -a")), "container ls");
        assert_eq!(command_path(&argv("image remove x")), "image rm");
        assert_eq!(command_path(&argv("--bogus ps")), "");
        assert_eq!(command_path(&argv("")), "");
    }

    #[test]
    fn messages() {
        assert_eq!(
            arity_error("logs").text,
            "berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] CONTAINER\n\nRun 'berth logs --help' for more information"
        );
        assert_eq!(
            arity_error("exec").text,
            "berth: 'berth exec' requires at least 2 arguments\n\nUsage:  berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'berth exec --help' for more information"
        );
        assert_eq!(
            arity_error("container ls").text,
            "berth: 'berth container ls' accepts no arguments\n\nUsage:  berth container ls [OPTIONS]\n\nRun 'berth container ls --help' for more information"
        );
        assert_eq!(arity_error("rename").code, 1);
        let f = flag_error("run", "unknown flag: --x");
        assert_eq!(f.code, 125);
        assert_eq!(
            f.text,
            "unknown flag: --x\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information"
        );
        assert_eq!(
            unknown_command("", "bogus").text,
            "berth: unknown command: berth bogus\n\nRun 'berth --help' for more information"
        );
        assert_eq!(
            unknown_command("container", "bogus").text,
            "berth: unknown command: berth container bogus\n\nUsage:  berth container\n\nRun 'berth container --help' for more information"
        );
    }
}
