//! The run's trace: the last lines for a violation report, a digest of every line (two
//! runs of one seed must agree on it), and, when asked, every line (for replay tests).

use std::collections::VecDeque;

use super::rng::{mix, stable_hash};

/// Lines of trace kept for a violation report.
const LAST_LINES: usize = 60;

#[derive(Debug)]
pub struct Trace {
    last: VecDeque<String>,
    all: Option<Vec<String>>,
    lines: u64,
    digest: u64,
}

impl Trace {
    /// `keep_all`: keep every line (memory grows with the run; for replay tests).
    pub fn new(keep_all: bool) -> Self {
        Self {
            last: VecDeque::with_capacity(LAST_LINES),
            all: keep_all.then(Vec::new),
            lines: 0,
            digest: 0,
        }
    }

    pub fn push(&mut self, line: String) {
        self.lines += 1;
        // Order matters: the same lines in another order give another digest.
        self.digest = mix(self.digest ^ stable_hash(&line));
        if let Some(all) = self.all.as_mut() {
            all.push(line.clone());
        }
        if self.last.len() == LAST_LINES {
            self.last.pop_front();
        }
        self.last.push_back(line);
    }

    pub fn last(&self) -> Vec<String> {
        self.last.iter().cloned().collect()
    }

    /// Every line, if the trace was made to keep them.
    pub fn all(&self) -> Option<Vec<String>> {
        self.all.clone()
    }

    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// A digest of every line in order.
    pub fn digest(&self) -> u64 {
        self.digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_sees_every_line_and_its_order() {
        let mut a = Trace::new(true);
        let mut b = Trace::new(false);
        for i in 0..100 {
            a.push(format!("line {i}"));
            b.push(format!("line {i}"));
        }
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.lines(), 100);
        assert_eq!(a.last().len(), LAST_LINES);
        assert_eq!(a.last()[0], "line 40");
        assert_eq!(a.all().map(|v| v.len()), Some(100));
        assert_eq!(b.all(), None);
        let mut c = Trace::new(false);
        for i in (0..100).rev() {
            c.push(format!("line {i}"));
        }
        assert_ne!(a.digest(), c.digest());
    }
}
