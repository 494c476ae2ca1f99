//! Keeps the layers: reads `src/**` and fails when a module reaches the wrong way.
//!
//! `domain` (rules, no I/O) ← `db` (SQL and transactions) ← `service` (use cases) ← `api`
//! (HTTP). The top-level modules of the crate must form no cycle, and `api` must not touch the
//! database itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What a layer may import from the crate, besides itself.
const ALLOWED: &[(&str, &[&str])] = &[("domain", &[]), ("clock", &[]), ("db", &["domain"])];

/// What a layer must never import, though it may import other things.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("state", &["api", "startup", "service"]),
    ("service", &["api", "startup"]),
    ("auth", &["api", "startup", "service"]),
    ("references", &["api", "startup", "service"]),
    ("outbox", &["api", "startup", "service", "state"]),
    ("mail", &["api", "startup", "service", "state"]),
];

/// Words a file of `api/` must not contain outside comments: SQL and transactions live below.
const NOT_IN_API: &[&str] = &["diesel", "DbConnection", "transaction"];

/// One file of the crate: its module path and its code without comments.
struct Source {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

fn sources(root: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under src");
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                if module == ["lib"] || module == ["main"] {
                    module.clear();
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                out.push(Source {
                    path,
                    module,
                    code: strip_comments(&text),
                });
            }
        }
    }
    out
}

/// The code with line comments (and so doc comments) removed; string contents are kept, which
/// at worst adds an edge that a reader would also question.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut in_string = false;
            let bytes = line.as_bytes();
            let mut cut = line.len();
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' if in_string => i += 1,
                    b'"' => in_string = !in_string,
                    b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => {
                        cut = i;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            &line[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a piece of code names through `crate::`, or through `super::` from a
/// module whose parent is the crate root.
fn imports(source: &Source) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let code = &source.code;
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `some_crate::`
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        start = true;
                        continue;
                    }
                    c if c.is_whitespace() => continue,
                    _ if start && depth == 1 => {
                        let name = ident_at(&group[i..]);
                        if !name.is_empty() {
                            found.insert(name.to_string());
                        }
                        start = false;
                        continue;
                    }
                    _ => {}
                }
                start = false;
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                found.insert(name.to_string());
            }
        }
    }
    if source.module.len() == 1 {
        for (at, _) in code.match_indices("super::") {
            if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let name = ident_at(&code[at + "super::".len()..]);
            // `use super::*` in a file's own test module refers to the file itself.
            if !name.is_empty() {
                found.insert(name.to_string());
            }
        }
    }
    found
}

/// Every edge between top-level modules: (from, to) → the files that make it.
fn graph(sources: &[Source]) -> BTreeMap<(String, String), Vec<String>> {
    let tops: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| s.module.first().cloned())
        .collect();
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for source in sources {
        let Some(from) = source.module.first() else {
            continue; // lib.rs and main.rs assemble everything
        };
        for to in imports(source) {
            if &to != from && tops.contains(&to) {
                edges
                    .entry((from.clone(), to))
                    .or_default()
                    .push(source.path.display().to_string());
            }
        }
    }
    edges
}

fn layer_violations(edges: &BTreeMap<(String, String), Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for ((from, to), files) in edges {
        let refused = match ALLOWED.iter().find(|(layer, _)| layer == from) {
            Some((_, allowed)) => !allowed.contains(&to.as_str()),
            None => FORBIDDEN
                .iter()
                .any(|(layer, never)| layer == from && never.contains(&to.as_str())),
        };
        {
            if refused {
                out.push(format!(
                    "`{from}` may not import `{to}` (in {})",
                    files.join(", ")
                ));
            }
        }
    }
    out
}

/// Strongly connected components of more than one module, each as a sorted list.
fn cycles(edges: &BTreeMap<(String, String), Vec<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let reaches = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for ((a, b), _) in edges.range((n.clone(), String::new())..) {
                if a != &n {
                    break;
                }
                if seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        if !reach[n].contains(*n) {
            continue;
        }
        let mut component: Vec<String> = nodes
            .iter()
            .filter(|m| reach[n].contains(**m) && reach[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        component.sort();
        if !out.contains(&component) {
            out.push(component);
        }
    }
    out
}

fn api_touching_the_database(sources: &[Source]) -> Vec<String> {
    let mut out = Vec::new();
    for source in sources
        .iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "api"))
    {
        for (n, line) in source.code.lines().enumerate() {
            if let Some(word) = NOT_IN_API.iter().find(|w| line.contains(*w)) {
                out.push(format!(
                    "{}:{}: `{word}` in the HTTP layer",
                    source.path.display(),
                    n + 1
                ));
            }
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn layers_import_only_downwards() {
    let sources = sources(&src());
    let violations = layer_violations(&graph(&sources));
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn top_level_modules_form_no_cycle() {
    let sources = sources(&src());
    let edges = graph(&sources);
    let found = cycles(&edges);
    let described: Vec<String> = found
        .iter()
        .map(|c| {
            let inside: Vec<String> = edges
                .iter()
                .filter(|((a, b), _)| c.contains(a) && c.contains(b))
                .map(|((a, b), files)| format!("  {a} -> {b} ({})", files.join(", ")))
                .collect();
            format!("cycle through {}:\n{}", c.join(", "), inside.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "{}", described.join("\n"));
}

#[test]
fn handlers_do_not_touch_the_database() {
    let found = api_touching_the_database(&sources(&src()));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The checker itself: a fixture with a forbidden import, a cycle and SQL in a handler.
#[test]
fn the_checks_catch_what_they_forbid() {
    let file = |module: &[&str], code: &str| Source {
        path: PathBuf::from(module.join("/")),
        module: module.iter().map(|m| m.to_string()).collect(),
        code: strip_comments(code),
    };
    let fixture = vec![
        file(&["domain", "question"], "use crate::db::DbConnection;"),
        file(&["db", "questions"], "use crate::{domain::x, api::y};"),
        file(
            &["api", "questions"],
            "use crate::db; // diesel in a comment is fine\nconn.transaction(|c| 1)",
        ),
        file(
            &["service"],
            "use super::api::z; // crate::startup in a comment",
        ),
    ];
    let edges = graph(&fixture);
    let violations = layer_violations(&edges);
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("`domain` may not import `db`")),
        "{violations:?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("`db` may not import `api`")),
        "{violations:?}"
    );
    assert!(
        !violations.iter().any(|v| v.contains("`startup`")),
        "{violations:?}"
    );
    let expected: Vec<String> = ["api", "db", "domain"].map(String::from).into();
    assert_eq!(cycles(&edges), vec![expected]);
    assert!(edges.contains_key(&("service".into(), "api".into())));
    let api = api_touching_the_database(&fixture);
    assert_eq!(api.len(), 1, "{api:?}");
    assert!(
        api[0].ends_with("`transaction` in the HTTP layer"),
        "{api:?}"
    );
}
