//! Aligned text columns for the CLI's tables.

/// Which side a column's text sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers and sizes.
    Right,
}

/// A table that measures its cells before printing, so columns line up.
#[derive(Debug, Default)]
pub struct Table {
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column alignments.
    pub fn new(aligns: &[Align]) -> Table {
        Table {
            aligns: aligns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells print empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines, two spaces between columns, no trailing spaces.
    pub fn render(&self) -> Vec<String> {
        let width = |s: &str| s.chars().count();
        let mut widths = vec![0; self.aligns.len()];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(widths.len()) {
                widths[i] = widths[i].max(width(cell));
            }
        }
        self.rows
            .iter()
            .map(|row| {
                let mut line = String::new();
                for (i, w) in widths.iter().enumerate() {
                    let cell = row.get(i).map_or("", String::as_str);
                    let pad = w - width(cell);
                    if i > 0 {
                        line.push_str("  ");
                    }
                    match self.aligns[i] {
                        Align::Left => {
                            line.push_str(cell);
                            line.extend(std::iter::repeat_n(' ', pad));
                        }
                        Align::Right => {
                            line.extend(std::iter::repeat_n(' ', pad));
                            line.push_str(cell);
                        }
                    }
                }
                line.trim_end().to_string()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&[Align::Left, Align::Right]);
        t.row(vec!["a".into(), "1 KiB".into()]);
        t.row(vec!["longer".into(), "10 B".into()]);
        assert_eq!(t.render(), ["a       1 KiB", "longer   10 B"]);
    }
}
