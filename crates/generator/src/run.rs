//! The loops that pump events into a sink: pacing, stopping (count, deadline, a flag) and progress.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::events::Events;
use crate::pace::{Pace, Pacer};
use crate::sink::{BusSink, FileSink};
use crate::stats::Summary;
use crate::tx::{Event, Tx};

/// How a run is paced and stopped.
#[derive(Debug, Clone, Copy)]
pub struct Control<'a> {
    pub pace: Pace,
    /// Stop taking transactions at this wall time (labels still follow).
    pub deadline: Option<Instant>,
    /// Stop taking transactions when this turns true (e.g. on Ctrl-C).
    pub stop: Option<&'a AtomicBool>,
}

impl Default for Control<'_> {
    fn default() -> Self {
        Self {
            pace: Pace::Fastest,
            deadline: None,
            stop: None,
        }
    }
}

/// Events between two progress reports and stop checks when running flat out.
const CHECK_EVERY: u64 = 1 << 14;

/// Time between two progress reports and stop checks when paced.
const CHECK_PACED: Duration = Duration::from_millis(100);

struct Loop<'a> {
    ctl: Control<'a>,
    pacer: Pacer,
    start: Instant,
    summary: Summary,
    events: u64,
    last_check: Instant,
}

impl<'a> Loop<'a> {
    fn new(ctl: Control<'a>) -> Self {
        Self {
            ctl,
            pacer: Pacer::new(ctl.pace),
            start: Instant::now(),
            summary: Summary::default(),
            events: 0,
            last_check: Instant::now(),
        }
    }

    /// When `ev` is due, as an offset from the start (`None`: now).
    fn due(&mut self, ev: &Event) -> Option<Duration> {
        match ev {
            Event::Transaction(tx) => self.pacer.due(tx.time_ms),
            Event::Label(_) => None,
        }
    }

    /// The next nap before an event due at `due`: at most `CHECK_PACED`, so a stop is seen soon;
    /// `None` once it is due (or the run is stopping).
    fn nap(&self, due: Option<Duration>) -> Option<Duration> {
        let left = due?.checked_sub(self.start.elapsed())?;
        (left > Duration::from_millis(1) && !self.should_stop()).then(|| left.min(CHECK_PACED))
    }

    /// Counts `ev`; true when it is time to check for a stop and report progress.
    fn count(&mut self, ev: &Event) -> bool {
        self.summary.add(ev);
        self.events += 1;
        if self.events.is_multiple_of(CHECK_EVERY) {
            return true;
        }
        if self.ctl.pace == Pace::Fastest {
            return false;
        }
        let now = Instant::now();
        let due = now.duration_since(self.last_check) >= CHECK_PACED;
        if due {
            self.last_check = now;
        }
        due
    }

    fn should_stop(&self) -> bool {
        self.ctl.deadline.is_some_and(|d| Instant::now() >= d)
            || self.ctl.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }

    fn done(mut self) -> Summary {
        self.summary.elapsed = self.start.elapsed();
        self.summary
    }
}

/// Pumps `events` into a bus until they end (or the run is stopped), then flushes.
pub async fn to_bus<S, E>(
    events: &mut Events<S>,
    sink: &mut BusSink,
    ctl: Control<'_>,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, Error>
where
    S: Iterator<Item = Result<Tx, E>>,
    Error: From<E>,
{
    let mut run = Loop::new(ctl);
    while let Some(ev) = events.next() {
        let ev = ev?;
        let due = run.due(&ev);
        if run.nap(due).is_some() {
            sink.flush().await?;
            while let Some(nap) = run.nap(due) {
                tokio::time::sleep(nap).await;
            }
        }
        if sink.push(&ev) {
            sink.flush().await?;
        }
        if run.count(&ev) {
            if run.should_stop() {
                events.stop();
            }
            run.summary.elapsed = run.start.elapsed();
            progress(&run.summary);
        }
    }
    sink.flush().await?;
    Ok(run.done())
}

/// Writes the transactions of `events` to a file sink (labels are in the rows already).
pub fn to_file<S, E, W>(
    events: &mut Events<S>,
    sink: &mut FileSink<W>,
    ctl: Control<'_>,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, Error>
where
    S: Iterator<Item = Result<Tx, E>>,
    Error: From<E>,
    W: std::io::Write,
{
    let mut run = Loop::new(ctl);
    while let Some(ev) = events.next() {
        let ev = ev?;
        let Event::Transaction(tx) = &ev else {
            continue;
        };
        let due = run.due(&ev);
        if run.nap(due).is_some() {
            sink.flush()?;
            while let Some(nap) = run.nap(due) {
                std::thread::sleep(nap);
            }
        }
        sink.write(tx)?;
        if run.count(&ev) {
            if run.should_stop() {
                events.stop();
            }
            run.summary.elapsed = run.start.elapsed();
            progress(&run.summary);
        }
    }
    sink.flush()?;
    Ok(run.done())
}
