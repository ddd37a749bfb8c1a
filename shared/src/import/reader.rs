//! CSV records with the editor line number on which each one starts.
//!
//! In csv 1.4, a record's `Position::line` is where the reader stopped
//! after the previous record, so it points at skipped blank lines and at
//! the end of the previous line instead of at the record. This reader
//! counts line breaks itself: `\r\n`, `\n` and a lone `\r` each end a
//! line, as in a text editor.

use csv::StringRecord;

use super::ImportError;

pub(crate) struct RecordReader<'t> {
    reader: csv::Reader<&'t [u8]>,
    text: &'t [u8],
    delimiter: u8,
    record: StringRecord,
    /// Byte offset up to which line breaks have been counted.
    counted_to: usize,
    /// Line number at `counted_to`, starting at 1.
    line: u64,
    /// Byte offset where the last record read starts, if any was read.
    last_start: Option<usize>,
}

impl<'t> RecordReader<'t> {
    pub fn new(text: &'t str, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        Self {
            reader,
            text: text.as_bytes(),
            delimiter,
            record: StringRecord::new(),
            counted_to: 0,
            line: 1,
            last_start: None,
        }
    }

    /// Reads the next record and returns the line it starts on, or `None`
    /// at the end of the text.
    ///
    /// Fails with [`ImportError::InvalidCsv`] when the text ends inside a
    /// quoted field, because such a field swallows the rest of the file.
    pub fn next_record(&mut self) -> Result<Option<u64>, ImportError> {
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                let resumed_at = self
                    .record
                    .position()
                    .map_or(self.counted_to, |p| p.byte() as usize);
                let start = self.skip_line_breaks(resumed_at.max(self.counted_to));
                self.line += count_line_breaks(self.text, self.counted_to, start);
                self.counted_to = start;
                self.last_start = Some(start);
                Ok(Some(self.line))
            }
            Ok(false) => match self.last_start {
                Some(start) if ends_inside_quotes(&self.text[start..], self.delimiter) => {
                    Err(ImportError::InvalidCsv {
                        line: self.line,
                        message: format!(
                            "the quoted field in the record that starts on line {} is never closed, so it runs to the end of the file",
                            self.line
                        ),
                    })
                }
                _ => Ok(None),
            },
            // Reading from a byte slice of valid UTF-8 has no I/O or UTF-8
            // errors to report, so this arm is a safeguard.
            Err(error) => Err(ImportError::InvalidCsv {
                line: self.line,
                message: error.to_string(),
            }),
        }
    }

    pub fn record(&self) -> &StringRecord {
        &self.record
    }

    /// Returns whether every field of the current record is empty or
    /// whitespace, as in the `,,,,` rows that spreadsheets leave behind.
    pub fn record_is_blank(&self) -> bool {
        self.record.iter().all(|field| field.trim().is_empty())
    }

    fn skip_line_breaks(&self, mut offset: usize) -> usize {
        while matches!(self.text.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        offset
    }
}

/// Counts line breaks in `text[from..to]`. A `\r` directly followed by
/// `\n` is one break, counted at the `\n`.
fn count_line_breaks(text: &[u8], from: usize, to: usize) -> u64 {
    let mut breaks = 0;
    for index in from..to {
        match text[index] {
            b'\n' => breaks += 1,
            b'\r' if text.get(index + 1) != Some(&b'\n') => breaks += 1,
            _ => {}
        }
    }
    breaks
}

/// Returns whether the CSV text of one record ends inside a quoted field,
/// following the csv crate's default rules: a quote opens a quoted field
/// only at the start of a field, and `""` inside it is a literal quote.
fn ends_inside_quotes(record_text: &[u8], delimiter: u8) -> bool {
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut bytes = record_text.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        if in_quotes {
            if byte == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    in_quotes = false;
                }
            }
        } else if byte == b'"' && at_field_start {
            in_quotes = true;
            at_field_start = false;
        } else {
            at_field_start = byte == delimiter || byte == b'\n' || byte == b'\r';
        }
    }
    in_quotes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(u64, Vec<String>)> {
        let mut reader = RecordReader::new(text, b',');
        let mut lines = Vec::new();
        while let Some(line) = reader.next_record().unwrap() {
            lines.push((line, reader.record().iter().map(str::to_owned).collect()));
        }
        lines
    }

    #[test]
    fn reader_counts_blank_lines_and_crlf() {
        let lines = lines_of("a,b\r\n\r\n\r\nc,d\r\n");
        let numbers: Vec<u64> = lines.iter().map(|(line, _)| *line).collect();
        assert_eq!(numbers, [1, 4]);
    }

    #[test]
    fn reader_reports_start_line_of_multiline_field() {
        let lines = lines_of("h1,h2\n\"x\ny\nz\",1\nnext,2\n");
        let numbers: Vec<u64> = lines.iter().map(|(line, _)| *line).collect();
        assert_eq!(numbers, [1, 2, 5]);
        assert_eq!(lines[1].1[0], "x\ny\nz");
    }

    #[test]
    fn reader_counts_lone_carriage_return() {
        let lines = lines_of("a\rb\r\rc");
        let numbers: Vec<u64> = lines.iter().map(|(line, _)| *line).collect();
        assert_eq!(numbers, [1, 2, 4]);
    }

    #[test]
    fn reader_rejects_unclosed_quote() {
        let mut reader = RecordReader::new("a,b\n\"open,c\nd,e\n", b',');
        assert_eq!(reader.next_record().unwrap(), Some(1));
        assert_eq!(reader.next_record().unwrap(), Some(2));
        let error = reader.next_record().unwrap_err();
        assert!(
            matches!(error, ImportError::InvalidCsv { line: 2, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn ends_inside_quotes_follows_csv_rules() {
        assert!(!ends_inside_quotes(b"\"a\"\"b\",c\n", b','));
        assert!(!ends_inside_quotes(b"a\"b,c\n", b','));
        assert!(ends_inside_quotes(b"a,\"b\n", b','));
        assert!(ends_inside_quotes(b"\"a\"\"\n", b','));
        assert!(!ends_inside_quotes(b"a;\"b;c\";d", b';'));
    }
}
