//! Tidy: the invariants of ARCHITECTURE.md that a grep can check, over every Rust file of the
//! workspace (as rust-analyzer's `tidy.rs` does). Each check names the rule and the files that break it.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every `.rs` file under the workspace's crates, as (path relative to the root, text).
fn rust_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                if name != "target"
                    && name != "node_modules"
                    && !name.to_string_lossy().starts_with('.')
                {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = root();
    let mut paths = Vec::new();
    for krate in ["app", "server", "shared", "xtask"] {
        walk(&root.join(krate), &mut paths);
    }
    paths.sort();
    assert!(paths.len() > 50, "found only {} Rust files", paths.len());
    paths
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).expect("read source");
            let rel = p
                .strip_prefix(&root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, text)
        })
        .collect()
}

/// The code of a file without its comments and without its `#[cfg(test)]` module at the end (where
/// tests may do what request paths must not).
fn code(text: &str) -> String {
    let main = text.split("#[cfg(test)]").next().unwrap_or(text);
    main.lines()
        .map(|l| match l.trim_start() {
            t if t.starts_with("//") => "",
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn offenders(files: &[(String, String)], bad: impl Fn(&str, &str) -> bool) -> Vec<String> {
    files
        .iter()
        .filter(|(path, text)| bad(path, text))
        .map(|(path, _)| path.clone())
        .collect()
}

#[test]
fn every_module_says_what_it_is_for() {
    let files = rust_files();
    let missing = offenders(&files, |_, text| !text.starts_with("//!"));
    assert!(
        missing.is_empty(),
        "files that do not open with a `//!` line: {missing:#?}"
    );
}

#[test]
fn only_the_sync_module_and_its_storage_name_samod() {
    // storage.rs implements samod's storage trait; everything else goes through sync.rs.
    let allowed = ["server/src/sync.rs", "server/src/storage.rs"];
    let files = rust_files();
    let bad = offenders(&files, |path, text| {
        path.starts_with("server/src/")
            && !allowed.contains(&path)
            && code(text).contains("samod::")
    });
    assert!(bad.is_empty(), "samod named outside {allowed:?}: {bad:#?}");
    let elsewhere = offenders(&files, |path, text| {
        (path.starts_with("app/") || path.starts_with("shared/")) && code(text).contains("samod")
    });
    assert!(
        elsewhere.is_empty(),
        "samod in app or shared: {elsewhere:#?}"
    );
}

#[test]
fn only_the_js_bridge_touches_the_browser() {
    let files = rust_files();
    let bad = offenders(&files, |path, text| {
        path.starts_with("app/src/")
            && !path.starts_with("app/src/js/")
            && code(text).contains("web_sys")
    });
    assert!(bad.is_empty(), "web_sys used outside app/src/js/: {bad:#?}");
}

#[test]
fn shared_does_no_io() {
    let forbidden = [
        "std::fs",
        "std::net",
        "SystemTime",
        "Instant::now",
        "rand::",
        "tokio",
        "rusqlite",
        "web_sys",
    ];
    let files = rust_files();
    for word in forbidden {
        let bad = offenders(&files, |path, text| {
            path.starts_with("shared/src/") && code(text).contains(word)
        });
        assert!(bad.is_empty(), "`{word}` in shared (no IO there): {bad:#?}");
    }
}

#[test]
fn only_the_server_knows_sql() {
    let files = rust_files();
    let bad = offenders(&files, |path, text| {
        !path.starts_with("server/") && code(text).contains("rusqlite")
    });
    assert!(bad.is_empty(), "rusqlite outside the server: {bad:#?}");
}

#[test]
fn request_paths_do_not_panic_on_a_poisoned_lock() {
    let files = rust_files();
    let bad = offenders(&files, |path, text| {
        if !path.starts_with("server/src/") {
            return false;
        }
        let flat: String = code(text).split_whitespace().collect();
        [
            ".lock().unwrap()",
            ".read().unwrap()",
            ".write().unwrap()",
            ".lock().expect(",
            ".read().expect(",
            ".write().expect(",
        ]
        .iter()
        .any(|p| flat.contains(p))
    });
    assert!(
        bad.is_empty(),
        "a lock unwrapped (recover with `unwrap_or_else(|p| p.into_inner())` or map to an error): {bad:#?}"
    );
}

#[test]
fn the_http_contract_is_typed() {
    let files = rust_files();
    let json_bodies = offenders(&files, |path, text| {
        path.starts_with("server/src/") && code(text).contains("json!")
    });
    assert!(
        json_bodies.is_empty(),
        "`json!` bodies (use shared::api types): {json_bodies:#?}"
    );
    let untyped = offenders(&files, |path, text| {
        path.starts_with("app/src/") && code(text).contains("serde_json::Value")
    });
    assert!(
        untyped.is_empty(),
        "untyped JSON in the app (use shared::api types): {untyped:#?}"
    );
}

#[test]
fn the_checks_see_what_they_check() {
    // A tidy check that finds no files proves nothing: make sure each looks where the code is.
    let files = rust_files();
    for must in [
        "server/src/sync.rs",
        "server/src/storage.rs",
        "shared/src/api.rs",
        "shared/src/vocab.rs",
    ] {
        assert!(files.iter().any(|(p, _)| p == must), "{must} not found");
    }
    assert!(files.iter().any(|(p, _)| p.starts_with("app/src/js/")));
    assert!(
        code("let a = 1;\n// samod::x\n#[cfg(test)]\nmod t { samod::y }").trim() == "let a = 1;"
    );
}
