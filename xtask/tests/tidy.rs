//! The tidy test: the architecture's invariants that a text scan can check,
//! run by a plain `cargo test` so that no change breaks them unseen (after
//! rust-analyzer's `tidy.rs`). Each check names the files that break it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `(crate name, source file)` for every library and binary source file of
/// the workspace (`crates/*/src` and `xtask/src`).
fn sources() -> Vec<(String, PathBuf)> {
    let root = root();
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root.join("crates")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            for f in rust_files(&e.path().join("src")) {
                out.push((name.clone(), f));
            }
        }
    }
    for f in rust_files(&root.join("xtask/src")) {
        out.push(("xtask".to_string(), f));
    }
    out.sort();
    assert!(out.len() > 20, "found only {} source files", out.len());
    out
}

/// The file's text up to its unit-test module: tests may print and connect.
fn code_before_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Lines of `text` (1-based numbers) that contain any of `needles`, outside
/// `//` comments.
fn offending_lines(text: &str, needles: &[&str]) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            needles.iter().any(|n| code.contains(n))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn every_module_says_why_it_exists() {
    let missing: Vec<String> = sources()
        .iter()
        .filter(|(_, f)| {
            let text = read(f);
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|(_, f)| relative(f))
        .collect();
    assert!(
        missing.is_empty(),
        "these modules have no `//!` comment at the top saying why they exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn only_the_cli_prints() {
    let printing = [
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "stdout()",
        "stderr()",
    ];
    let mut bad = Vec::new();
    for (krate, f) in sources() {
        if krate == "skyql-cli" || krate == "xtask" {
            continue;
        }
        let text = read(&f);
        for line in offending_lines(code_before_tests(&text), &printing) {
            bad.push(format!("{}:{line}", relative(&f)));
        }
    }
    assert!(
        bad.is_empty(),
        "only skyql-cli touches the terminal; library crates return what to print:\n{}",
        bad.join("\n")
    );
}

#[test]
fn only_the_client_opens_connections() {
    // Servers (the emulators, `srv`) accept connections; only the client makes them.
    let connecting = [
        "reqwest::",
        "TcpStream::connect",
        "UdpSocket::bind",
        "hyper_util::client",
    ];
    let mut bad = Vec::new();
    for (krate, f) in sources() {
        if krate == "skyql-client" || krate == "xtask" {
            continue;
        }
        let text = read(&f);
        for line in offending_lines(code_before_tests(&text), &connecting) {
            bad.push(format!("{}:{line}", relative(&f)));
        }
    }
    assert!(
        bad.is_empty(),
        "only skyql-client opens network connections:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_test_is_ignored() {
    let root = root();
    let mut files = rust_files(&root.join("crates"));
    files.extend(rust_files(&root.join("xtask")));
    // Spelled in two halves so that this file does not match itself.
    let marker = concat!("#[ig", "nore");
    let bad: Vec<String> = files
        .iter()
        .filter(|f| read(f).contains(marker))
        .map(|f| relative(f))
        .collect();
    assert!(
        bad.is_empty(),
        "ignored tests never run in CI; make them pass or delete them:\n{}",
        bad.join("\n")
    );
}
