//! Where a key or value sits in the scenario text, for checks made after deserializing (a rule
//! that contradicts itself, a duplicate host): the file is parsed a second time into toml's
//! spanned document tree and walked along a path of keys and array indices.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a path: a table key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// The spanned document tree of one scenario text.
pub struct Locator<'i> {
    root: Option<Spanned<DeTable<'i>>>,
}

impl<'i> Locator<'i> {
    pub fn new(text: &'i str) -> Self {
        Locator {
            root: DeTable::parse(text).ok(),
        }
    }

    /// The span of the value at `path`, if the file has one there.
    pub fn value(&self, path: &[Step<'_>]) -> Option<Range<usize>> {
        self.walk(path).map(|(_, value)| value)
    }

    /// The span of the last key of `path` (`delay` in `delay = "5s"`), or of the value when
    /// the last step is an index (an array-of-tables element: its `[[…]]` header).
    pub fn key(&self, path: &[Step<'_>]) -> Option<Range<usize>> {
        self.walk(path).map(|(key, value)| key.unwrap_or(value))
    }

    fn walk(&self, path: &[Step<'_>]) -> Option<(Option<Range<usize>>, Range<usize>)> {
        let root = self.root.as_ref()?;
        let mut table: &DeTable<'_> = root.get_ref();
        let mut current: Option<&Spanned<DeValue<'_>>> = None;
        let mut key_span = None;
        for (i, step) in path.iter().enumerate() {
            if i > 0 {
                match current.map(Spanned::get_ref) {
                    Some(DeValue::Table(t)) => table = t,
                    Some(DeValue::Array(a)) => {
                        let Step::Index(n) = step else { return None };
                        current = Some(a.get(*n)?);
                        key_span = None;
                        continue;
                    }
                    _ => return None,
                }
            }
            let Step::Key(name) = step else { return None };
            let (key, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *name)?;
            key_span = Some(key.span());
            current = Some(value);
        }
        let value = current?;
        Some((key_span, value.span()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "a = 1\n[[h]]\nname = \"x\"\n[[h]]\nname = \"y\"\n[[h.r]]\nstage = \"rcpt\"\n";

    #[test]
    fn finds_keys_values_and_array_elements() {
        let l = Locator::new(TEXT);
        let at = |r: Range<usize>| &TEXT[r];
        assert_eq!(l.value(&[Step::Key("a")]).map(at), Some("1"));
        let second = [Step::Key("h"), Step::Index(1), Step::Key("name")];
        assert_eq!(l.value(&second).map(at), Some("\"y\""));
        assert_eq!(l.key(&second).map(at), Some("name"));
        let stage = [
            Step::Key("h"),
            Step::Index(1),
            Step::Key("r"),
            Step::Index(0),
            Step::Key("stage"),
        ];
        assert_eq!(l.key(&stage).map(at), Some("stage"));
        assert!(
            l.key(&[
                Step::Key("h"),
                Step::Index(1),
                Step::Key("r"),
                Step::Index(0)
            ])
            .is_some()
        );
        assert_eq!(l.value(&[Step::Key("h"), Step::Index(2)]), None);
        assert_eq!(l.value(&[Step::Key("nope")]), None);
    }
}
