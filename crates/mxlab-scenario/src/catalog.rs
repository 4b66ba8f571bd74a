//! The built-in catalog: `scenarios/*.toml`, compiled in by `build.rs`.

use std::path::Path;

use crate::error::LoadError;
use crate::load::{Scenario, load_path, load_str};

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// Every built-in scenario's name, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().map(|(name, _)| *name)
}

/// A built-in scenario's text, as written.
pub fn text(name: &str) -> Option<&'static str> {
    CATALOG.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Loads a built-in scenario by name.
pub fn builtin(name: &str) -> Option<Result<Scenario, LoadError>> {
    CATALOG
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| load_str(n, &format!("scenarios/{n}.toml"), text))
}

/// Resolves what a user typed: a catalog name, or a path to a `.toml` file.
pub fn resolve(arg: &str) -> Result<Scenario, LoadError> {
    let path = Path::new(arg);
    if arg.ends_with(".toml") || path.components().count() > 1 {
        return load_path(path);
    }
    builtin(arg).unwrap_or_else(|| {
        Err(LoadError::whole_file(
            arg,
            format!(
                "no such scenario; `mxlab list` shows the catalog ({})",
                names().collect::<Vec<_>>().join(", ")
            ),
        ))
    })
}
