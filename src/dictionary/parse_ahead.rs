//! Parse dictionary files on worker threads while the loader collects the
//! files already parsed, in load order. Parsing YAML is the largest part of
//! loading a big dictionary and files are independent, so on a machine with
//! several cores it runs beside the (sequential) collection. The workers stay
//! at most a few files ahead of the collector, so only a few YAML trees are
//! alive at once, as with a one-file-at-a-time loader. Pure: texts in, trees out.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread::Scope;

use crate::dictionary::yaml::{self, Yaml, YamlError};

type Parsed = Result<Option<Yaml>, YamlError>;

/// Most worker threads used (a school server rarely has more cores to spare).
const MAX_WORKERS: usize = 4;
/// Below this many bytes in all, threads cost more than they save.
const MIN_PARALLEL_BYTES: usize = 64 * 1024;

/// The parse results of texts, handed out in order by [`Self::next`].
pub(crate) struct ParseAhead<'t> {
    texts: &'t [&'t str],
    source: Source,
    /// Results that arrived before their turn.
    pending: BTreeMap<usize, Parsed>,
    next: usize,
    window: &'t Window,
}

enum Source {
    /// Parse each text when asked (one core, or little to parse).
    Inline,
    Workers(Receiver<(usize, Parsed)>),
}

/// How far the workers may go: a text is taken only when fewer than `ahead`
/// texts are parsed and not yet handed out.
#[derive(Debug)]
pub(crate) struct Window {
    taken: AtomicUsize,
    handed_out: Mutex<usize>,
    moved: Condvar,
    ahead: usize,
}

impl Window {
    pub(crate) fn new() -> Self {
        Self {
            taken: AtomicUsize::new(0),
            handed_out: Mutex::new(0),
            moved: Condvar::new(),
            ahead: 3,
        }
    }

    /// Wait until text `k` may be parsed.
    fn wait_for_turn(&self, k: usize) {
        let mut handed_out = self
            .handed_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while k >= *handed_out + self.ahead {
            handed_out = self
                .moved
                .wait(handed_out)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn hand_out(&self, count: usize) {
        *self
            .handed_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = count;
        self.moved.notify_all();
    }
}

impl<'t> ParseAhead<'t> {
    /// Start parsing `texts` (in order) on workers spawned in `scope`, or
    /// inline when one thread is as fast.
    pub(crate) fn start<'scope>(
        scope: &'scope Scope<'scope, 't>,
        texts: &'t [&'t str],
        window: &'t Window,
    ) -> Self {
        let bytes: usize = texts.iter().map(|t| t.len()).sum();
        // Asking for the cores reads cgroup files: only when worth it.
        let workers = if texts.len() < 2 || bytes < MIN_PARALLEL_BYTES {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .min(MAX_WORKERS)
                .min(texts.len())
        };
        let source = if workers < 2 {
            Source::Inline
        } else {
            let (tx, rx) = sync_channel(window.ahead);
            for _ in 0..workers {
                let tx = tx.clone();
                scope.spawn(move || {
                    loop {
                        let k = window.taken.fetch_add(1, Ordering::Relaxed);
                        let Some(text) = texts.get(k) else { break };
                        window.wait_for_turn(k);
                        if tx.send((k, yaml::parse(text))).is_err() {
                            break;
                        }
                    }
                });
            }
            Source::Workers(rx)
        };
        Self {
            texts,
            source,
            pending: BTreeMap::new(),
            next: 0,
            window,
        }
    }

    /// The result of the next text in order (`None` once all are handed out).
    pub(crate) fn next(&mut self) -> Option<Parsed> {
        let k = self.next;
        let text = *self.texts.get(k)?;
        let parsed = match &self.source {
            Source::Inline => yaml::parse(text),
            Source::Workers(rx) => loop {
                if let Some(parsed) = self.pending.remove(&k) {
                    break parsed;
                }
                match rx.recv() {
                    Ok((i, parsed)) => {
                        self.pending.insert(i, parsed);
                    }
                    // Every worker ended without this text: parse it here.
                    Err(_) => break yaml::parse(text),
                }
            },
        };
        self.next += 1;
        self.window.hand_out(self.next);
        Some(parsed)
    }
}

impl Drop for ParseAhead<'_> {
    /// Let waiting workers go (they find the receiver gone and stop), so the
    /// scope ends even if not every text was asked for.
    fn drop(&mut self) {
        self.window.hand_out(usize::MAX / 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(count: usize) -> Vec<String> {
        (0..count)
            .map(|i| {
                // Large enough to go to the workers, different per file.
                let body: String = (0..2_000).map(|j| format!("v{j}: {i}\n")).collect();
                format!("version: 1.1\nfile_{i}: {i}\n{body}")
            })
            .collect()
    }

    #[test]
    fn results_come_in_order_with_workers_or_inline() {
        for count in [0, 1, 2, 7, 40] {
            let owned = texts(count);
            let all: Vec<&str> = owned.iter().map(String::as_str).collect();
            let window = Window::new();
            let got: Vec<Parsed> = std::thread::scope(|scope| {
                let mut ahead = ParseAhead::start(scope, &all, &window);
                std::iter::from_fn(|| ahead.next()).collect()
            });
            let expected: Vec<Parsed> = all.iter().map(|t| yaml::parse(t)).collect();
            assert_eq!(got, expected, "{count} texts");
        }
    }

    #[test]
    fn a_syntax_error_is_returned_for_its_own_file() {
        let mut owned = texts(6);
        owned[3] = format!("{}\n  bad: [unclosed\n", owned[3]);
        let all: Vec<&str> = owned.iter().map(String::as_str).collect();
        let window = Window::new();
        let errors: Vec<bool> = std::thread::scope(|scope| {
            let mut ahead = ParseAhead::start(scope, &all, &window);
            std::iter::from_fn(|| ahead.next())
                .map(|r| r.is_err())
                .collect()
        });
        assert_eq!(errors, [false, false, false, true, false, false]);
    }

    #[test]
    fn stopping_early_does_not_hang_the_workers() {
        let owned = texts(40);
        let all: Vec<&str> = owned.iter().map(String::as_str).collect();
        let window = Window::new();
        let first = std::thread::scope(|scope| {
            let mut ahead = ParseAhead::start(scope, &all, &window);
            ahead.next()
        });
        assert!(matches!(first, Some(Ok(Some(_)))));
    }
}
