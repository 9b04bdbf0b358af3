//! `--change` Dockerfile instructions of `docker import` / `docker commit`, applied to
//! an image config like dockerd's `dockerfile.BuildFromConfig`.
//!
//! Accepted (dockerd's `validCommitCommands`): `CMD ENTRYPOINT ENV EXPOSE HEALTHCHECK
//! LABEL ONBUILD STOPSIGNAL USER VOLUME WORKDIR`; anything else is
//! `<instruction> is not a valid change command` (lower-cased, as dockerd's parser
//! reports it).

use std::collections::BTreeMap;

use berth_api::types::{ContainerConfig, HealthConfig};

/// Errors of `--change` parsing (all are the client's fault: HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The instruction is malformed or not allowed; the message is dockerd's.
    #[error("{0}")]
    Invalid(String),
}

fn err(msg: impl Into<String>) -> ChangeError {
    ChangeError::Invalid(msg.into())
}

const VALID: &[&str] = &[
    "cmd",
    "entrypoint",
    "healthcheck",
    "env",
    "expose",
    "label",
    "onbuild",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// Applies `changes` (one instruction each; they are joined by newlines like dockerd
/// does, so `\` continuations work) to `config`.
pub fn apply_changes(config: &mut ContainerConfig, changes: &[String]) -> Result<(), ChangeError> {
    if changes.is_empty() {
        return Ok(());
    }
    let text = changes.join("\n");
    let lines = logical_lines(&text);
    // Validate every instruction first, as dockerd does before dispatching any.
    let mut parsed = Vec::new();
    for line in &lines {
        let (instr, rest) = match line.split_once(|c: char| c.is_whitespace()) {
            Some((i, r)) => (i.to_lowercase(), r.trim().to_string()),
            None => (line.to_lowercase(), String::new()),
        };
        if !VALID.contains(&instr.as_str()) {
            return Err(err(format!("{instr} is not a valid change command")));
        }
        parsed.push((instr, rest));
    }
    let mut cmd_set = false;
    for (instr, rest) in parsed {
        dispatch(config, &instr, &rest, &mut cmd_set)?;
    }
    Ok(())
}

/// Joins `\`-continued lines, drops blank and comment lines.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let trimmed = raw.trim();
        if cur.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(stripped) = raw.trim_end().strip_suffix('\\') {
            cur.push_str(stripped);
            continue;
        }
        cur.push_str(raw);
        let line = cur.trim().to_string();
        if !line.is_empty() {
            out.push(line);
        }
        cur.clear();
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn dispatch(
    c: &mut ContainerConfig,
    instr: &str,
    rest: &str,
    cmd_set: &mut bool,
) -> Result<(), ChangeError> {
    let upper = instr.to_uppercase();
    match instr {
        "cmd" => {
            c.cmd = Some(exec_or_shell(rest));
            *cmd_set = true;
        }
        "entrypoint" => {
            c.entrypoint = Some(exec_or_shell(rest));
            // dockerd: an ENTRYPOINT resets a CMD inherited from before this build.
            if !*cmd_set {
                c.cmd = None;
            }
        }
        "env" => {
            for (k, v) in name_values(rest, &upper)? {
                let env = c.env.get_or_insert_with(Vec::new);
                let value = process_word(&v, env)?;
                let key = process_word(&k, env)?;
                if key.is_empty() {
                    return Err(err("ENV names can not be blank"));
                }
                let entry = format!("{key}={value}");
                match env
                    .iter_mut()
                    .find(|e| e.split_once('=').map(|(n, _)| n) == Some(key.as_str()))
                {
                    Some(e) => *e = entry,
                    None => env.push(entry),
                }
            }
        }
        "label" => {
            for (k, v) in name_values(rest, &upper)? {
                let env = c.env.clone().unwrap_or_default();
                let key = process_word(&k, &env)?;
                if key.is_empty() {
                    return Err(err("LABEL names can not be blank"));
                }
                let value = process_word(&v, &env)?;
                c.labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key, value);
            }
        }
        "expose" => {
            let env = c.env.clone().unwrap_or_default();
            let words = split_words(rest);
            if words.is_empty() {
                return Err(err("EXPOSE requires at least one argument"));
            }
            for w in words {
                for port in parse_port_spec(&process_word(&w, &env)?)? {
                    c.exposed_ports
                        .get_or_insert_with(BTreeMap::new)
                        .insert(port, serde_json::json!({}));
                }
            }
        }
        "user" => {
            let words = split_words(rest);
            if words.len() != 1 {
                return Err(err("USER requires exactly one argument"));
            }
            c.user = process_word(&words[0], &c.env.clone().unwrap_or_default())?;
        }
        "volume" => {
            let env = c.env.clone().unwrap_or_default();
            let vols = match json_array(rest) {
                Some(v) => v,
                None => split_words(rest)
                    .iter()
                    .map(|w| process_word(w, &env))
                    .collect::<Result<_, _>>()?,
            };
            if vols.is_empty() {
                return Err(err("VOLUME requires at least one argument"));
            }
            for v in vols {
                let v = v.trim().to_string();
                if v.is_empty() {
                    return Err(err("VOLUME specified can not be an empty string"));
                }
                c.volumes
                    .get_or_insert_with(BTreeMap::new)
                    .insert(v, serde_json::json!({}));
            }
        }
        "workdir" => {
            let words = split_words(rest);
            if words.len() != 1 {
                return Err(err("WORKDIR requires exactly one argument"));
            }
            let dir = process_word(&words[0], &c.env.clone().unwrap_or_default())?;
            let joined = if dir.starts_with('/') {
                dir
            } else {
                let base = if c.working_dir.is_empty() {
                    "/"
                } else {
                    c.working_dir.as_str()
                };
                format!("{base}/{dir}")
            };
            c.working_dir = clean_path(&joined);
        }
        "stopsignal" => {
            let words = split_words(rest);
            if words.len() != 1 {
                return Err(err("STOPSIGNAL requires exactly one argument"));
            }
            let sig = process_word(&words[0], &c.env.clone().unwrap_or_default())?;
            validate_signal(&sig)?;
            c.stop_signal = Some(sig);
        }
        "onbuild" => {
            if rest.is_empty() {
                return Err(err("ONBUILD requires at least one argument"));
            }
            let trigger = rest.split_whitespace().next().unwrap_or("").to_uppercase();
            match trigger.as_str() {
                "ONBUILD" => {
                    return Err(err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"))
                }
                "FROM" | "MAINTAINER" => {
                    return Err(err(format!(
                        "{trigger} isn't allowed as an ONBUILD trigger"
                    )))
                }
                _ => {}
            }
            c.on_build
                .get_or_insert_with(Vec::new)
                .push(rest.to_string());
        }
        "healthcheck" => c.healthcheck = Some(parse_healthcheck(rest)?),
        _ => return Err(err(format!("{instr} is not a valid change command"))),
    }
    Ok(())
}

/// JSON form (`["a","b"]`) or shell form (`/bin/sh -c "…"`), like `parseMaybeJSON`.
fn exec_or_shell(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(rest).ok()
}

/// `parseNameVal`: `k=v k2="v 2"` or the legacy `k value with spaces`.
fn name_values(rest: &str, instr: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let words = split_words(rest);
    if words.is_empty() {
        return Err(err(format!("{instr} requires at least one argument")));
    }
    if !words[0].contains('=') {
        // Legacy form: one name, the rest of the line is its value.
        let mut parts = rest.splitn(2, char::is_whitespace);
        let key = parts.next().unwrap_or("").to_string();
        let value = parts.next().map(str::trim).unwrap_or("");
        if value.is_empty() {
            return Err(err(format!("{instr} must have two arguments")));
        }
        return Ok(vec![(key, value.to_string())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(err(format!(
                "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
            ))),
        })
        .collect()
}

/// `parseWords`: whitespace-separated words, quotes and escapes kept for
/// [`process_word`].
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        match (quote, ch) {
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            (_, '\\') => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (None, q @ ('"' | '\'')) => {
                quote = Some(q);
                cur.push(q);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (_, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The Dockerfile shell lexer's `ProcessWord`: removes quotes and escapes, expands
/// `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` from `env`.
fn process_word(word: &str, env: &[String]) -> Result<String, ChangeError> {
    let lookup = |name: &str| -> Option<String> {
        env.iter().rev().find_map(|e| {
            e.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    };
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_double = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' if !in_double => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    out.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(err(
                        "unexpected end of statement while looking for matching single-quote",
                    ));
                }
            }
            '"' => in_double = !in_double,
            '\\' => {
                i += 1;
                if let Some(&n) = chars.get(i) {
                    if in_double && !matches!(n, '"' | '$' | '\\') {
                        out.push('\\');
                    }
                    out.push(n);
                }
            }
            '$' => {
                let (value, used) = expand_var(&chars[i + 1..], &lookup)?;
                out.push_str(&value);
                i += used;
            }
            c => out.push(c),
        }
        i += 1;
    }
    if in_double {
        return Err(err(
            "unexpected end of statement while looking for matching double-quote",
        ));
    }
    Ok(out)
}

/// Expands the variable after a `$`; returns the value and the characters consumed.
fn expand_var(
    s: &[char],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, usize), ChangeError> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if s.first() == Some(&'{') {
        let Some(end) = s.iter().position(|&c| c == '}') else {
            return Err(err("missing '}' in variable expansion"));
        };
        let inner: String = s[1..end].iter().collect();
        let value = if let Some((name, default)) = inner.split_once(":-") {
            lookup(name)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        } else if let Some((name, alt)) = inner.split_once(":+") {
            if lookup(name).is_some_and(|v| !v.is_empty()) {
                alt.to_string()
            } else {
                String::new()
            }
        } else {
            lookup(&inner).unwrap_or_default()
        };
        return Ok((value, end + 1));
    }
    let len = s.iter().take_while(|&&c| is_name(c)).count();
    if len == 0 {
        return Ok(("$".to_string(), 0));
    }
    let name: String = s[..len].iter().collect();
    Ok((lookup(&name).unwrap_or_default(), len))
}

/// `nat.ParsePortSpecs` for EXPOSE: `80`, `80/udp`, `8000-8002/tcp`.
fn parse_port_spec(spec: &str) -> Result<Vec<String>, ChangeError> {
    let (port_part, proto) = match spec.rsplit_once('/') {
        Some((p, proto)) => (p, proto.to_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(err(format!("invalid proto: {proto}")));
    }
    // A published form (`ip:host:container`) keeps only the container port.
    let container = port_part.rsplit(':').next().unwrap_or(port_part);
    let bad = || err(format!("invalid containerPort: {container}"));
    let (start, end) = match container.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| bad())?,
            b.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let p = container.parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if end < start {
        return Err(bad());
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

/// Linux signal names dockerd's `signal.ParseSignal` accepts.
const SIGNALS: &[&str] = &[
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
];

fn validate_signal(raw: &str) -> Result<(), ChangeError> {
    let bad = || err(format!("Invalid signal: {raw}"));
    if let Ok(n) = raw.parse::<i64>() {
        return if n == 0 { Err(bad()) } else { Ok(()) };
    }
    let up = raw.to_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if SIGNALS.contains(&name) {
        return Ok(());
    }
    // RTMIN, RTMIN+n, RTMAX-n
    let rt = |base: &str, sep: char| {
        name == base
            || name
                .strip_prefix(base)
                .and_then(|r| r.strip_prefix(sep))
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| (1..=15).contains(&n))
    };
    if rt("RTMIN", '+') || rt("RTMAX", '-') {
        return Ok(());
    }
    Err(bad())
}

/// `HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D
/// --retries=N] CMD …` or `HEALTHCHECK NONE`.
fn parse_healthcheck(rest: &str) -> Result<HealthConfig, ChangeError> {
    let mut hc = HealthConfig::default();
    let mut rest = rest.trim();
    let mut flags = 0;
    while let Some(flag) = rest.strip_prefix("--") {
        let (word, tail) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        let (name, value) = word
            .split_once('=')
            .ok_or_else(|| err(format!("Missing a value on flag: --{word}")))?;
        match name {
            "interval" => hc.interval = parse_duration(value, name)?,
            "timeout" => hc.timeout = parse_duration(value, name)?,
            "start-period" => hc.start_period = parse_duration(value, name)?,
            "start-interval" => hc.start_interval = parse_duration(value, name)?,
            "retries" => {
                hc.retries = value.parse::<i64>().map_err(|_| {
                    err(format!(
                        "strconv.ParseInt: parsing {value:?}: invalid syntax"
                    ))
                })?;
                if hc.retries < 0 {
                    return Err(err("--retries cannot be negative"));
                }
            }
            other => return Err(err(format!("Unknown flag: {other}"))),
        }
        flags += 1;
        rest = tail.trim_start();
    }
    let (kind, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match kind.to_uppercase().as_str() {
        "NONE" => {
            if flags > 0 || !args.trim().is_empty() {
                return Err(err("HEALTHCHECK NONE takes no arguments"));
            }
            hc.test = Some(vec!["NONE".into()]);
        }
        "CMD" => {
            let args = args.trim();
            if args.is_empty() {
                return Err(err("Missing command after HEALTHCHECK CMD"));
            }
            hc.test = Some(match json_array(args) {
                Some(mut v) => {
                    v.insert(0, "CMD".into());
                    v
                }
                None => vec!["CMD-SHELL".into(), args.to_string()],
            });
        }
        other => {
            return Err(err(format!(
                "Unknown type {other:?} in HEALTHCHECK (try CMD)"
            )))
        }
    }
    Ok(hc)
}

/// Go's `time.ParseDuration` (units ns us µs ms s m h), in nanoseconds. dockerd
/// refuses durations below 1ms (except 0).
fn parse_duration(s: &str, flag: &str) -> Result<i64, ChangeError> {
    let bad = || err(format!("time: invalid duration {s:?}"));
    if s == "0" {
        return Ok(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * mult;
        rest = &rest[unit_len..];
    }
    let ns = total as i64;
    if ns != 0 && ns < 1_000_000 {
        return Err(err(format!("Interval {flag} cannot be less than 1ms")));
    }
    Ok(ns)
}

/// `path.Clean` for absolute paths.
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(changes: &[&str]) -> Result<ContainerConfig, ChangeError> {
        let mut c = ContainerConfig::default();
        apply_changes(
            &mut c,
            &changes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(c)
    }

    #[test]
    fn cmd_and_entrypoint_forms() {
        let c = apply(&[r#"CMD ["sh", "-c", "echo hi"]"#]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["sh", "-c", "echo hi"]);
        let c = apply(&["CMD echo hi there"]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh", "-c", "echo hi there"]);
        let c = apply(&[r#"cmd ["a"]"#, r#"ENTRYPOINT ["/e"]"#]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["a"]);
        assert_eq!(c.entrypoint.unwrap(), ["/e"]);
        let mut c = ContainerConfig {
            cmd: Some(vec!["old".into()]),
            ..Default::default()
        };
        apply_changes(&mut c, &["ENTRYPOINT /e".into()]).unwrap();
        assert_eq!(c.cmd, None, "an ENTRYPOINT resets an inherited CMD");
    }

    #[test]
    fn env_label_expose_volume_workdir_user_stopsignal() {
        let c = apply(&[
            "ENV A=1 B=\"two words\"",
            "ENV C ${A}-$B and more",
            "ENV A=3",
            "LABEL com.example=\"x y\" other=z",
            "EXPOSE 80 53/udp 8000-8001",
            r#"VOLUME ["/data", "/logs"]"#,
            "VOLUME /more",
            "WORKDIR /app",
            "WORKDIR sub/../dir",
            "USER nobody",
            "STOPSIGNAL SIGUSR1",
            "ONBUILD RUN echo hi",
        ])
        .unwrap();
        assert_eq!(
            c.env.unwrap(),
            ["A=3", "B=two words", "C=1-two words and more"]
        );
        let labels = c.labels.unwrap();
        assert_eq!(labels["com.example"], "x y");
        assert_eq!(labels["other"], "z");
        let ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let vols: Vec<_> = c.volumes.unwrap().into_keys().collect();
        assert_eq!(vols, ["/data", "/logs", "/more"]);
        assert_eq!(c.working_dir, "/app/dir");
        assert_eq!(c.user, "nobody");
        assert_eq!(c.stop_signal.as_deref(), Some("SIGUSR1"));
        assert_eq!(c.on_build.unwrap(), ["RUN echo hi"]);
    }

    #[test]
    fn healthcheck() {
        let c = apply(&["HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/"]).unwrap();
        let h = c.healthcheck.unwrap();
        assert_eq!(h.test.unwrap(), ["CMD-SHELL", "curl -f http://x/"]);
        assert_eq!(h.interval, 5_000_000_000);
        assert_eq!(h.retries, 3);
        let c = apply(&["HEALTHCHECK NONE"]).unwrap();
        assert_eq!(c.healthcheck.unwrap().test.unwrap(), ["NONE"]);
    }

    #[test]
    fn rejects_like_dockerd() {
        assert_eq!(
            apply(&["RUN echo"]).unwrap_err().to_string(),
            "run is not a valid change command"
        );
        assert_eq!(
            apply(&["FROM x"]).unwrap_err().to_string(),
            "from is not a valid change command"
        );
        assert_eq!(
            apply(&["STOPSIGNAL NOPE"]).unwrap_err().to_string(),
            "Invalid signal: NOPE"
        );
        assert_eq!(
            apply(&["EXPOSE abc"]).unwrap_err().to_string(),
            "invalid containerPort: abc"
        );
        assert_eq!(
            apply(&["ENV A"]).unwrap_err().to_string(),
            "ENV must have two arguments"
        );
        assert_eq!(
            apply(&["USER"]).unwrap_err().to_string(),
            "USER requires exactly one argument"
        );
        // Nothing is applied when one change is invalid.
        assert!(apply(&["ENV A=1", "COPY . /"]).is_err());
    }
}
