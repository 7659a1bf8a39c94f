//! `fraudwatch process --input`: the file mode, end to end through the binary.
//!
//! The golden test runs the handbook feature set over April 2018 of the shared handbook data and
//! compares every row with the handbook's own features. The data live in `shared/data/handbook`
//! beside the repository (or in `$FW_HANDBOOK_DIR`); when they are missing the test fails.

mod common;

use common::{fraudwatch, handbook_dir, text};

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

const APRIL_ROWS: usize = 288_062;
/// The three same-second pairs of April that the handbook processed in reverse id order.
const REVERSED_PAIRS: [u64; 6] = [121_453, 121_454, 163_831, 163_832, 174_806, 174_807];

fn gz_lines(path: &Path) -> impl Iterator<Item = String> + use<> {
    let file = std::fs::File::open(path).expect("the file was found above");
    BufReader::new(flate2::read::MultiGzDecoder::new(file))
        .lines()
        .map(|l| l.expect("a readable gzip text file"))
}

#[test]
fn handbook_features_match_the_golden_file() {
    let data = handbook_dir(&["transactions.csv.gz", "features-golden-2018-04.csv.gz"]);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("april.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for line in gz_lines(&data.join("transactions.csv.gz")).take(APRIL_ROWS + 1) {
        writeln!(w, "{line}").unwrap();
    }
    w.into_inner().unwrap();

    let o = fraudwatch(
        &[
            "process",
            "--input",
            "april.csv",
            "--feature-set",
            "handbook",
            "--labels-delay-days",
            "7",
            "--out",
            "features.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));

    let ours = std::fs::read_to_string(dir.path().join("features.csv")).unwrap();
    let mut ours = ours.lines();
    let mut golden = gz_lines(&data.join("features-golden-2018-04.csv.gz"));
    let header = golden.next().unwrap();
    assert_eq!(
        ours.next(),
        Some(header.as_str()),
        "same columns, same order"
    );
    let columns: Vec<&str> = header.split(',').collect();

    let (mut compared, mut reversed_differ) = (0, 0);
    let mut mismatches = Vec::new();
    for (g, o) in golden.zip(ours.by_ref()) {
        let (g, o): (Vec<&str>, Vec<&str>) = (g.split(',').collect(), o.split(',').collect());
        assert_eq!(g[0], o[0], "rows in the same order");
        assert_eq!(o.len(), columns.len(), "row {}", o[0]);
        let id: u64 = g[0].parse().unwrap();
        let differs: Vec<String> = (1..columns.len())
            .filter(|&c| {
                if columns[c].contains("avg_amount") || columns[c].contains("risk") {
                    let (a, b): (f64, f64) = (g[c].parse().unwrap(), o[c].parse().unwrap());
                    (a - b).abs() >= 1e-9
                } else {
                    g[c] != o[c]
                }
            })
            .map(|c| format!("{} golden {} ours {}", columns[c], g[c], o[c]))
            .collect();
        compared += 1;
        if REVERSED_PAIRS.contains(&id) {
            reversed_differ += usize::from(!differs.is_empty());
        } else if !differs.is_empty() {
            mismatches.push(format!("transaction {id}: {}", differs.join("; ")));
        }
    }
    assert_eq!(ours.next(), None, "no extra rows");
    assert_eq!(compared, APRIL_ROWS);
    assert!(
        mismatches.is_empty(),
        "{} of {compared} rows differ, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
    // Those six rows differ because the handbook took the higher id first; we take id order.
    assert_eq!(reversed_differ, 6);
}

const HEADER: &str = "transaction_id,tx_datetime,customer_id,terminal_id,tx_amount,tx_time_seconds,tx_time_days,tx_fraud,tx_fraud_scenario";

fn sample() -> String {
    [
        HEADER,
        "0,2018-04-01T00:00:31,596,3156,57.16,31,0,0,0",
        "1,2018-04-01T00:02:10,596,3156,81.51,130,0,1,2",
        "2,2018-04-08T00:00:31,7,3156,146.00,604831,7,0,0",
        "3,2018-04-08T00:02:10,596,3156,64.49,604930,7,0,0",
        "",
    ]
    .join("\n")
}

#[test]
fn reads_plain_and_gzip_alike_and_writes_integers_and_shortest_floats() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.csv"), sample()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(sample().as_bytes()).unwrap();
    std::fs::write(dir.path().join("tx.csv.gz"), gz.finish().unwrap()).unwrap();
    let mut outputs = Vec::new();
    for input in ["tx.csv", "tx.csv.gz"] {
        let o = fraudwatch(
            &[
                "process",
                "--input",
                input,
                "--feature-set",
                "handbook",
                "--out",
                "-",
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", text(&o));
        outputs.push(String::from_utf8(o.stdout).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    let lines: Vec<&str> = outputs[0].lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1], "0,1,1,1,57.16,1,57.16,1,57.16,0,0.0,0,0.0,0,0.0");
    assert_eq!(
        lines[2],
        "1,1,1,2,69.335,2,69.335,2,69.335,0,0.0,0,0.0,0,0.0"
    );
    // Transaction 2 is exactly 7 days after transaction 0 at the same terminal: in its window,
    // with its (genuine) label known; transaction 3 also sees transaction 1, a fraud.
    assert_eq!(lines[3], "2,1,1,1,146.0,1,146.0,1,146.0,1,0.0,1,0.0,1,0.0");
    assert_eq!(lines[4], "3,1,1,1,64.49,1,64.49,3,67.72,2,0.5,2,0.5,2,0.5");

    let o = fraudwatch(&["process", "--input", "tx.csv"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let velocity = String::from_utf8(o.stdout).unwrap();
    assert!(
        velocity.starts_with("transaction_id,amount,hour_of_day,"),
        "velocity is the default set: {velocity}"
    );
}

#[test]
fn bad_input_is_named_with_its_line_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let bad_row = sample().replace("146.00", "lots");
    let unsorted = sample().replace("2018-04-08T00:02:10", "2018-04-01T00:02:10");
    let cases = [
        (
            "bad-row.csv",
            bad_row.as_str(),
            "line 4: column tx_amount = \"lots\"",
        ),
        ("bad-header.csv", "id,amount\n1,2\n", "line 1: header is"),
        ("empty.csv", "", "the file is empty"),
        ("late.csv", unsorted.as_str(), "line 5"),
    ];
    for (name, content, expected) in cases {
        std::fs::write(dir.path().join(name), content).unwrap();
        let o = fraudwatch(&["process", "--input", name, "--out", "f.csv"], dir.path());
        let out = text(&o);
        assert!(!o.status.success(), "{name} must fail");
        assert!(
            out.contains(expected) && out.contains(name),
            "{name}: {out}"
        );
        assert!(!out.contains("panicked"), "{name}: {out}");
    }
    let o = fraudwatch(
        &[
            "process",
            "--input",
            "late.csv",
            "--lateness-secs",
            "700000",
        ],
        dir.path(),
    );
    assert!(
        o.status.success(),
        "within the lateness it is placed: {}",
        text(&o)
    );

    let o = fraudwatch(&["process", "--input", "missing.csv.gz"], dir.path());
    assert!(
        !o.status.success() && text(&o).contains("missing.csv.gz"),
        "{}",
        text(&o)
    );
    std::fs::write(dir.path().join("broken.csv.gz"), [0x1f, 0x8b, 0, 1, 2, 3]).unwrap();
    let o = fraudwatch(&["process", "--input", "broken.csv.gz"], dir.path());
    assert!(
        !o.status.success() && text(&o).contains("broken.csv.gz"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    let o = fraudwatch(
        &["process", "--input", "tx.csv", "--feature-set", "magic"],
        dir.path(),
    );
    assert!(
        !o.status.success() && text(&o).contains("magic"),
        "{}",
        text(&o)
    );
}
