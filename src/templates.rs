//! The wording of mail and of the pages the service serves: template files under `templates/`,
//! embedded at build time and rendered with minijinja. Files ending in `.html` are
//! HTML-escaped; the others (subjects, plain-text parts) are not.
//!
//! An operator may change the wording without rebuilding: with `PORTAL_TEMPLATE_DIR` set, a
//! file there (same relative name, e.g. `mail/receipt.txt`) takes the place of the embedded
//! one. Every template is compiled at start-up, so a broken file stops the service with its
//! name and line instead of failing a message later.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use minijinja::{Environment, Value};
use serde::Serialize;

/// The templates embedded at build time: (name below `templates/`, source).
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// Instructions one rendering may spend: a template that loops without end stops there.
const FUEL: u64 = 2_000_000;

/// The loaded templates, shared by every thread that renders.
#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// The embedded templates, each replaced by the file of the same name in `dir` if it has
    /// one. Fails on a template that does not compile.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.add_filter("date_vn", date_vn);
        env.add_filter("datetime_vn", datetime_vn);
        for (name, source) in EMBEDDED {
            let source: &'static str = match dir.map(|d| d.join(name)) {
                Some(path) if path.is_file() => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading template {}", path.display()))?;
                    // Read once at start-up and kept for the life of the process.
                    Box::leak(text.into_boxed_str())
                }
                _ => source,
            };
            env.add_template(name, source)
                .with_context(|| format!("template {name} does not compile"))?;
        }
        Ok(Self { env: Arc::new(env) })
    }

    /// The embedded templates alone.
    pub fn embedded() -> Self {
        Self::load(None).expect("the embedded templates compile (checked by tests)")
    }

    /// Renders the template `name` with `context`.
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }

    /// Whether a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }
}

/// `2026-03-09` or `2026-03-09T…` as `09/03/2026`; anything else unchanged.
fn date_vn(value: String) -> Value {
    formatted(crate::domain::vn_format::date_from_iso(&value), value)
}

/// An RFC 3339 time as `14:05 09/03/2026` in Vietnam time; anything else unchanged.
fn datetime_vn(value: String) -> Value {
    formatted(
        crate::domain::vn_format::datetime_from_rfc3339(&value),
        value,
    )
}

/// A formatted date (digits, `/`, `:` and a space) needs no escaping, which would otherwise
/// write its slashes as `&#x2f;` in HTML; a value that did not parse is passed on as text,
/// escaped as any other.
fn formatted(date: Option<String>, value: String) -> Value {
    match date {
        Some(date) => Value::from_safe_string(date),
        None => Value::from(value),
    }
}

#[cfg(test)]
mod tests;
