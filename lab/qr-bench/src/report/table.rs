//! A plain table and its aligned Markdown, and the one number format every table and the
//! chart use.

/// A plain table rendered as an aligned Markdown table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// How many leading columns are labels (left-aligned); the rest are numbers.
    pub label_columns: usize,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            label_columns: 3,
        }
    }

    /// Markdown: label columns left-aligned, the rest right-aligned, padded to line up.
    pub fn to_markdown(&self) -> String {
        let n = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                width[i] = width[i].max(cell.chars().count()).max(3);
            }
        }
        let pad = |s: &str, w: usize, left: bool| {
            let fill = " ".repeat(w.saturating_sub(s.chars().count()));
            if left {
                format!("{s}{fill}")
            } else {
                format!("{fill}{s}")
            }
        };
        let line = |cells: &[String]| {
            let parts: Vec<String> = (0..n)
                .map(|i| {
                    pad(
                        cells.get(i).map_or("", String::as_str),
                        width[i],
                        i < self.label_columns,
                    )
                })
                .collect();
            format!("| {} |\n", parts.join(" | "))
        };
        let mut out = line(&self.headers);
        let rule: Vec<String> = (0..n)
            .map(|i| {
                if i < self.label_columns {
                    "-".repeat(width[i])
                } else {
                    format!("{}:", "-".repeat(width[i] - 1))
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", rule.join(" | ")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Formats a number with a precision that suits its size; "-" for NaN.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_lines_up() {
        let mut t = Table::new(&["tier", "mode", "engine", "req/s"]);
        t.rows.push(vec![
            "tier-0".into(),
            "cluster".into(),
            "js".into(),
            "1464".into(),
        ]);
        let md = t.to_markdown();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "| tier   | mode    | engine | req/s |");
        assert_eq!(lines[1], "| ------ | ------- | ------ | ----: |");
        assert_eq!(lines[2], "| tier-0 | cluster | js     |  1464 |");
        assert_eq!(num(f64::NAN), "-");
        assert_eq!(num(1464.4), "1464");
        assert_eq!(num(68.04), "68.0");
        assert_eq!(num(0.5), "0.50");
    }
}
