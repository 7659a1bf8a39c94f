//! The extract on disk: one CSV per run, `transaction_id,timestamp_ms,customer_id,is_fraud`
//! then the features in the feature set's order. Written to a temporary name and renamed, so a
//! run killed while writing leaves no half file under the real name.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use fraudwatch_core::Id;
use fraudwatch_train::Dataset;

const FIXED: [&str; 4] = ["transaction_id", "timestamp_ms", "customer_id", "is_fraud"];

/// Writes `data` to `path` atomically.
pub fn write(data: &Dataset, path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension("csv.partial");
    {
        let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
        let header: Vec<&str> = FIXED
            .iter()
            .copied()
            .chain(data.names().iter().map(String::as_str))
            .collect();
        writeln!(out, "{}", header.join(","))?;
        for i in 0..data.len() {
            write!(
                out,
                "{},{},{},{}",
                data.id(i),
                data.time(i),
                data.card_id(i),
                u8::from(data.fraud(i))
            )?;
            for v in data.row(i) {
                // `{}` of an f64 reads back to the same bits.
                write!(out, ",{v}")?;
            }
            writeln!(out)?;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Reads a file [`write`] wrote; errors name the line.
pub fn read(path: &Path) -> Result<Dataset, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = BufReader::new(file).lines();
    let bad = |line: usize, why: &str| format!("{}: line {line}: {why}", path.display());
    let header = lines
        .next()
        .transpose()
        .map_err(|e| bad(1, &e.to_string()))?
        .ok_or_else(|| bad(1, "empty file"))?;
    let names: Vec<&str> = header.split(',').collect();
    if names.len() < FIXED.len() || names[..FIXED.len()] != FIXED {
        return Err(bad(1, "not an extract (header)"));
    }
    let mut data = Dataset::new(names[FIXED.len()..].iter().map(|s| s.to_string()).collect());
    let mut values = Vec::with_capacity(data.width());
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|e| bad(n + 2, &e.to_string()))?;
        let mut cells = line.split(',');
        let mut next = || cells.next().ok_or_else(|| bad(n + 2, "short row"));
        let id = Id::from(next()?);
        let time: i64 = next()?.parse().map_err(|_| bad(n + 2, "timestamp_ms"))?;
        let card = Id::from(next()?);
        let fraud = next()? == "1";
        values.clear();
        for _ in 0..data.width() {
            values.push(next()?.parse().map_err(|_| bad(n + 2, "a feature value"))?);
        }
        data.push(&id, time, &card, fraud, &values)
            .map_err(|e| bad(n + 2, &e.to_string()))?;
    }
    Ok(data)
}
