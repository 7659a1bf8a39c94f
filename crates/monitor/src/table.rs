//! A table of named columns read from CSV: a header, then rows. A column is numeric when every
//! non-empty cell parses as a number (`nan` counts as missing), text otherwise.

use std::io::Read;

use crate::column::Data;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<(String, Data)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{source_name}: no header line (is the file empty?)")]
    NoHeader { source_name: String },
    #[error("{source_name}: header column {index} is empty")]
    EmptyName { source_name: String, index: usize },
    #[error("{source_name}: column {name:?} appears twice in the header")]
    Duplicate { source_name: String, name: String },
    #[error("{source_name}: line {line}: {fields} fields, the header has {expected}")]
    Width {
        source_name: String,
        line: u64,
        fields: usize,
        expected: usize,
    },
    #[error("{source_name}: {message}")]
    Csv {
        source_name: String,
        message: String,
    },
}

impl Table {
    /// Reads CSV from `input`; `source_name` (e.g. the file's path) names it in errors.
    pub fn from_csv(input: impl Read, source_name: &str) -> Result<Table, TableError> {
        let csv_error = |e: csv::Error| TableError::Csv {
            source_name: source_name.into(),
            message: e.to_string(),
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let header = reader.headers().map_err(csv_error)?.clone();
        if header.is_empty() || (header.len() == 1 && header[0].trim().is_empty()) {
            return Err(TableError::NoHeader {
                source_name: source_name.into(),
            });
        }
        let mut names: Vec<String> = Vec::with_capacity(header.len());
        for (index, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}').to_string();
            if name.is_empty() {
                return Err(TableError::EmptyName {
                    source_name: source_name.into(),
                    index: index + 1,
                });
            }
            if names.contains(&name) {
                return Err(TableError::Duplicate {
                    source_name: source_name.into(),
                    name,
                });
            }
            names.push(name);
        }
        let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            if record.len() != names.len() {
                return Err(TableError::Width {
                    source_name: source_name.into(),
                    line: record.position().map_or(0, |p| p.line()),
                    fields: record.len(),
                    expected: names.len(),
                });
            }
            for (column, cell) in cells.iter_mut().zip(record.iter()) {
                column.push(cell.trim().to_string());
            }
        }
        let columns = names
            .into_iter()
            .zip(cells)
            .map(|(name, cells)| (name, typed(cells)))
            .collect();
        Ok(Table { columns })
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, d)| d.len())
    }

    pub fn column(&self, name: &str) -> Option<&Data> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }
}

fn typed(cells: Vec<String>) -> Data {
    let number = |s: &str| -> Option<f64> {
        match s {
            "" => Some(f64::NAN),
            s if s.eq_ignore_ascii_case("nan") => Some(f64::NAN),
            s => s.parse::<f64>().ok(),
        }
    };
    match cells
        .iter()
        .map(|c| number(c))
        .collect::<Option<Vec<f64>>>()
    {
        Some(values) => Data::Numbers(values),
        None => Data::Text(
            cells
                .into_iter()
                .map(|c| (!c.is_empty()).then_some(c))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Table, TableError> {
        Table::from_csv(text.as_bytes(), "t.csv")
    }

    #[test]
    fn columns_are_numeric_or_text() {
        let t = read("amount,channel,flag\n1.5,online,1\n,atm,NaN\n2e3,,0\n").unwrap();
        assert_eq!(t.rows(), 3);
        let Some(Data::Numbers(a)) = t.column("amount") else {
            panic!("amount is numeric")
        };
        assert_eq!(a[0], 1.5);
        assert!(a[1].is_nan());
        assert_eq!(a[2], 2000.0);
        assert_eq!(
            t.column("channel"),
            Some(&Data::Text(vec![
                Some("online".into()),
                Some("atm".into()),
                None
            ]))
        );
        assert!(matches!(t.column("flag"), Some(Data::Numbers(_))));
    }

    #[test]
    fn garbage_is_named() {
        let cases = [
            ("", "no header"),
            ("a,a\n1,2\n", "appears twice"),
            ("a,,b\n1,2,3\n", "header column 2 is empty"),
            ("a,b\n1,2\n3\n", "line 3: 1 fields, the header has 2"),
        ];
        for (text, expected) in cases {
            let err = read(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(err.starts_with("t.csv"), "{err}");
        }
        let binary = read("a,b\n\u{0}\u{1},\u{ff}\n");
        assert!(binary.is_ok(), "odd bytes are text cells, not a crash");
        let header_only = read("a,b\n").unwrap();
        assert_eq!(header_only.rows(), 0);
    }
}
