//! Route parsing and filters must never panic on any input, and only ever answer
//! with a status the daemon can send.
#![no_main]

use berth_api::filters::Filters;
use berth_api::route::parse;
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(*first) % METHODS.len()];
    let text = String::from_utf8_lossy(rest);
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (&*text, None),
    };
    match parse(method, path, query) {
        Ok(req) => {
            let _ = format!("{req:?}");
        }
        Err(err) => {
            assert!(
                matches!(err.status(), 400 | 404),
                "{}: {}",
                err.status(),
                err.message()
            );
            assert!(!err.message().is_empty());
        }
    }
    if let Ok(f) = Filters::parse(&text) {
        // What we print back parses to the same filters.
        assert_eq!(Filters::parse(&f.to_json()).ok(), Some(f));
    }
});
