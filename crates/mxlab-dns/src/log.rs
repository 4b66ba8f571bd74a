//! The query log: what every query got, on the story clock. Bounded, so a long `serve` keeps
//! only the latest entries.

use std::collections::VecDeque;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Story time since start.
    pub at: Duration,
    /// Which server answered: a `dns.servers` name, `resolver`, or `dns` for the lone default.
    pub server: String,
    pub protocol: &'static str,
    pub name: String,
    pub rtype: String,
    /// Response code, or `dropped`, with the fault's action when one decided.
    pub outcome: String,
}

#[derive(Debug)]
pub struct QueryLog {
    entries: VecDeque<LogEntry>,
    capacity: usize,
    /// Entries pushed out by the bound.
    pub evicted: u64,
}

impl QueryLog {
    pub fn with_capacity(capacity: usize) -> Self {
        QueryLog {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    pub fn push(&mut self, entry: LogEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.evicted += 1;
        }
        self.entries.push_back(entry);
    }

    pub fn entries(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_latest() {
        let mut log = QueryLog::with_capacity(2);
        for i in 0..3 {
            log.push(LogEntry {
                at: Duration::from_secs(i),
                server: "dns".into(),
                protocol: "udp",
                name: format!("n{i}"),
                rtype: "A".into(),
                outcome: "NOERROR".into(),
            });
        }
        let names: Vec<_> = log.entries().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["n1", "n2"]);
        assert_eq!(log.evicted, 1);
    }
}
