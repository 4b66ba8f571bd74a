//! A memo in front of a resolver, so that a check and the survey after it ask each question
//! once: a slow or silent server then costs one timeout per question, not one per use.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::resolver::{Lookup, QueryType, SpfResolver};

pub struct Cached<R> {
    inner: R,
    answers: Mutex<HashMap<(String, QueryType), Lookup>>,
}

impl<R> Cached<R> {
    pub fn new(inner: R) -> Self {
        Cached {
            inner,
            answers: Mutex::new(HashMap::new()),
        }
    }

    pub fn inner(&self) -> &R {
        &self.inner
    }

    fn get(&self, key: &(String, QueryType)) -> Option<Lookup> {
        // A poisoned lock only means another task panicked mid-insert; the map is still sound.
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.get(key).cloned()
    }
}

impl<R: SpfResolver + Sync> SpfResolver for Cached<R> {
    async fn lookup(&self, name: &str, qtype: QueryType) -> Lookup {
        let key = (name.to_ascii_lowercase(), qtype);
        if let Some(hit) = self.get(&key) {
            return hit;
        }
        let answer = self.inner.lookup(name, qtype).await;
        self.answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting(AtomicUsize);

    impl SpfResolver for Counting {
        async fn lookup(&self, _: &str, _: QueryType) -> Lookup {
            self.0.fetch_add(1, Ordering::Relaxed);
            Lookup::Timeout
        }
    }

    #[tokio::test]
    async fn asks_each_question_once() {
        let cached = Cached::new(Counting(AtomicUsize::new(0)));
        for name in ["a.example", "A.example", "a.example"] {
            assert_eq!(cached.lookup(name, QueryType::Txt).await, Lookup::Timeout);
        }
        cached.lookup("a.example", QueryType::A).await;
        assert_eq!(cached.inner().0.load(Ordering::Relaxed), 2);
    }
}
