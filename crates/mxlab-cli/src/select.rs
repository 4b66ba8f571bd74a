//! Which stories a run replays: named ones, or the catalog — all of it, or those whose name
//! contains `--filter` and that carry every `--tag`.

use mxlab_scenario::{LoadError, Scenario, catalog};

/// What the command line asked for.
pub struct Selection<'a> {
    pub names: &'a [String],
    pub all: bool,
    pub filter: Option<&'a str>,
    pub tags: &'a [String],
}

impl Selection<'_> {
    fn narrows(&self) -> bool {
        self.filter.is_some() || !self.tags.is_empty()
    }

    fn keeps(&self, s: &Scenario) -> bool {
        let name_ok = self
            .filter
            .is_none_or(|f| s.name.to_lowercase().contains(&f.to_lowercase()));
        name_ok && self.tags.iter().all(|t| s.tags().any(|x| x == t))
    }

    /// The scenarios, loaded, in the order given (catalog order for the catalog). An empty
    /// selection is an error, said in words.
    pub fn load(&self) -> Result<Vec<Scenario>, String> {
        let from_catalog = self.all || self.names.is_empty();
        let loaded: Result<Vec<Scenario>, LoadError> = if from_catalog {
            catalog::names().filter_map(catalog::builtin).collect()
        } else {
            self.names.iter().map(|n| catalog::resolve(n)).collect()
        };
        let loaded = loaded.map_err(|e| e.to_string())?;
        if !self.narrows() {
            return Ok(loaded);
        }
        let kept: Vec<Scenario> = loaded.into_iter().filter(|s| self.keeps(s)).collect();
        if kept.is_empty() {
            let mut asked = Vec::new();
            if let Some(f) = self.filter {
                asked.push(format!("--filter {f}"));
            }
            asked.extend(self.tags.iter().map(|t| format!("--tag {t}")));
            return Err(format!(
                "no scenario matches {}; `mxlab list` shows names and tags",
                asked.join(" ")
            ));
        }
        Ok(kept)
    }
}
