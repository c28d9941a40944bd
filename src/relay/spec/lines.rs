//! Byte offsets in the file, as toml's spans give them, turned into line
//! numbers for the operator.

/// Where each line of a text starts.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    /// The line (from 1) holding byte `offset`.
    pub fn of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_counted_from_one() {
        let lines = Lines::new("a\nbc\n\nd");
        assert_eq!(
            [0, 1, 2, 4, 5, 6, 99].map(|o| lines.of(o)),
            [1, 1, 2, 2, 3, 4, 4]
        );
    }
}
