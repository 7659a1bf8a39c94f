//! Where events go: a file (handbook CSV or labelled JSON lines) or a bus (transactions to
//! `transactions`, labels to `labels`, both keyed by customer id, in batches). Buffers are reused:
//! once warm, writing an event allocates nothing.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use fraudwatch_bus::topics::{LABELS, TRANSACTIONS};
use fraudwatch_bus::{Bus, Record, TopicSpec};

use crate::error::Error;
use crate::format::Encoder;
use crate::tx::{Event, Tx};

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The handbook's CSV layout (its nine columns; scenario codes 4 to 6 extend it).
    Csv,
    /// One JSON object a line: the wire-format transaction plus `is_fraud` and `fraud_scenario`.
    Jsonl,
}

impl Format {
    /// The format a file name implies: `.csv`, `.jsonl` / `.ndjson` / `.json`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".csv") {
            Some(Format::Csv)
        } else if [".jsonl", ".ndjson", ".json"]
            .iter()
            .any(|e| name.ends_with(e))
        {
            Some(Format::Jsonl)
        } else {
            None
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "jsonl" => Ok(Format::Jsonl),
            other => Err(format!("unknown format {other:?}; known: csv, jsonl")),
        }
    }
}

const FILE_CHUNK: usize = 1 << 18;

/// Writes transactions (with their truth) to `out`.
#[derive(Debug)]
pub struct FileSink<W: Write> {
    out: W,
    format: Format,
    origin_ms: Option<i64>,
    enc: Encoder,
    buf: Vec<u8>,
    what: String,
}

impl<W: Write> FileSink<W> {
    /// `origin_ms` is where CSV's `tx_time_seconds` counts from (`None`: the midnight before the
    /// first transaction); `what` names the output in errors.
    pub fn new(out: W, format: Format, origin_ms: Option<i64>, what: impl Into<String>) -> Self {
        let mut buf = Vec::with_capacity(FILE_CHUNK + 1024);
        if format == Format::Csv {
            Encoder::csv_header(&mut buf);
        }
        Self {
            out,
            format,
            origin_ms,
            enc: Encoder::new(),
            buf,
            what: what.into(),
        }
    }

    pub fn write(&mut self, tx: &Tx) -> Result<(), Error> {
        match self.format {
            Format::Csv => {
                let origin = *self
                    .origin_ms
                    .get_or_insert(tx.time_ms.div_euclid(86_400_000) * 86_400_000);
                self.enc.csv_row(tx, origin, &mut self.buf);
            }
            Format::Jsonl => {
                self.enc.labelled_json(tx, &mut self.buf);
                self.buf.push(b'\n');
            }
        }
        if self.buf.len() >= FILE_CHUNK {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), Error> {
        self.out
            .write_all(&self.buf)
            .map_err(|source| Error::Write {
                what: self.what.clone(),
                source,
            })?;
        self.buf.clear();
        Ok(())
    }

    /// Writes out what is buffered and flushes.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.drain()?;
        self.out.flush().map_err(|source| Error::Write {
            what: self.what.clone(),
            source,
        })
    }

    pub fn finish(mut self) -> Result<W, Error> {
        self.flush()?;
        Ok(self.out)
    }
}

/// Records of one topic, encoded back to back into two reused buffers.
#[derive(Debug, Default)]
struct Batch {
    keys: Vec<u8>,
    payloads: Vec<u8>,
    /// End offsets of each record's key and payload.
    ends: Vec<(usize, usize)>,
}

impl Batch {
    fn push(&mut self, customer: u64, encode: impl FnOnce(&mut Vec<u8>)) {
        self.keys
            .extend_from_slice(itoa::Buffer::new().format(customer).as_bytes());
        encode(&mut self.payloads);
        self.ends.push((self.keys.len(), self.payloads.len()));
    }

    fn records(&self) -> Vec<Record<'_>> {
        let mut out = Vec::with_capacity(self.ends.len());
        let (mut k0, mut p0) = (0, 0);
        for &(k1, p1) in &self.ends {
            out.push(Record::new(&self.keys[k0..k1], &self.payloads[p0..p1]));
            (k0, p0) = (k1, p1);
        }
        out
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.payloads.clear();
        self.ends.clear();
    }
}

/// Produces transactions and labels to a bus in batches.
#[derive(Debug)]
pub struct BusSink {
    bus: Arc<dyn Bus>,
    transactions: String,
    labels: String,
    max_batch: usize,
    enc: Encoder,
    txs: Batch,
    lbs: Batch,
}

impl BusSink {
    /// Topics are `<prefix>transactions` and `<prefix>labels`; `max_batch` records per produce call.
    pub fn new(bus: Arc<dyn Bus>, topic_prefix: &str, max_batch: usize) -> Self {
        Self {
            bus,
            transactions: format!("{topic_prefix}{TRANSACTIONS}"),
            labels: format!("{topic_prefix}{LABELS}"),
            max_batch: max_batch.max(1),
            enc: Encoder::new(),
            txs: Batch::default(),
            lbs: Batch::default(),
        }
    }

    /// (transactions topic, labels topic).
    pub fn topics(&self) -> (&str, &str) {
        (&self.transactions, &self.labels)
    }

    /// Creates both topics (and their dead-letter topics) if missing.
    pub async fn create_topics(&self, partitions: i32) -> Result<(), Error> {
        let mut specs = TopicSpec::with_dlq(&self.transactions, partitions).to_vec();
        specs.extend(TopicSpec::with_dlq(&self.labels, partitions));
        self.bus
            .create_topics(&specs)
            .await
            .map_err(|source| Error::Bus {
                what: format!("creating topics {} and {}", self.transactions, self.labels),
                source: Box::new(source),
            })
    }

    /// Buffers one event; true when a batch is full and [`BusSink::flush`] is due.
    pub fn push(&mut self, ev: &Event) -> bool {
        let enc = &mut self.enc;
        match ev {
            Event::Transaction(tx) => self
                .txs
                .push(tx.customer, |out| enc.transaction_json(tx, out)),
            Event::Label(l) => self.lbs.push(l.customer, |out| enc.label_json(l, out)),
        }
        self.txs.ends.len() >= self.max_batch || self.lbs.ends.len() >= self.max_batch
    }

    /// Events buffered and not yet produced.
    pub fn buffered(&self) -> usize {
        self.txs.ends.len() + self.lbs.ends.len()
    }

    /// Produces what is buffered; returns when the bus has accepted all of it.
    pub async fn flush(&mut self) -> Result<(), Error> {
        let (txs, lbs) = (self.txs.records(), self.lbs.records());
        let (a, b) = tokio::join!(
            produce(&*self.bus, &self.transactions, &txs),
            produce(&*self.bus, &self.labels, &lbs)
        );
        drop((txs, lbs));
        a?;
        b?;
        self.txs.clear();
        self.lbs.clear();
        Ok(())
    }
}

async fn produce(bus: &dyn Bus, topic: &str, records: &[Record<'_>]) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    bus.produce(topic, records)
        .await
        .map_err(|source| Error::Bus {
            what: format!("producing {} records to {topic}", records.len()),
            source: Box::new(source),
        })
}
