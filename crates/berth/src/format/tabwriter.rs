//! Go's `text/tabwriter` as docker configures it (minwidth 10, tabwidth 1, padding 3,
//! padchar ' ', no flags): tab-terminated cells align in columns; the last cell of a
//! line is not part of any column. Columns are computed per block of consecutive lines
//! that have a cell in that column, like Go.

/// Docker's settings.
pub const MIN_WIDTH: usize = 10;
/// Docker's settings.
pub const PADDING: usize = 3;

/// Aligns `text` (lines of `\t`-separated cells).
pub fn align(text: &str) -> String {
    align_min(text, MIN_WIDTH)
}

/// [`align`] with another minimum cell width (`top`: 20).
pub fn align_min(text: &str, min_width: usize) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<Vec<usize>> = lines
        .iter()
        .map(|l| vec![0; l.len().saturating_sub(1)])
        .collect();
    format_block(&lines, &mut widths, 0, lines.len(), 0, min_width);
    let mut out = String::with_capacity(text.len() * 2);
    for (i, cells) in lines.iter().enumerate() {
        for (j, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < cells.len() {
                let w = widths[i][j];
                let n = cell.chars().count();
                out.extend(std::iter::repeat_n(' ', w.saturating_sub(n)));
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out
}

/// Computes the widths of column `col` for lines `start..end` (Go's `format`).
fn format_block(
    lines: &[Vec<&str>],
    widths: &mut [Vec<usize>],
    start: usize,
    end: usize,
    col: usize,
    min_width: usize,
) {
    let mut i = start;
    while i < end {
        if lines[i].len().saturating_sub(1) <= col {
            i += 1;
            continue;
        }
        // A block of lines with a cell in this column.
        let block_start = i;
        let mut width = min_width;
        while i < end && lines[i].len().saturating_sub(1) > col {
            width = width.max(lines[i][col].chars().count() + PADDING);
            i += 1;
        }
        for w in widths.iter_mut().take(i).skip(block_start) {
            w[col] = width;
        }
        format_block(lines, widths, block_start, i, col + 1, min_width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_ps_header() {
        let t = "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n";
        assert_eq!(
            align(t),
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
    }

    #[test]
    fn columns_widen_to_longest_cell() {
        let t = "A\tB\tC\nlongervalue12\tx\ty";
        assert_eq!(
            align(t),
            "A               B         C\nlongervalue12   x         y"
        );
    }

    #[test]
    fn unicode_width_counts_chars() {
        let t = "\"sh -c 'while tr…\"\tx\nshort\ty";
        let out = align(t);
        assert_eq!(
            out.lines().nth(1).unwrap(),
            format!("short{}y", " ".repeat(20 - 5 + 1))
        );
    }

    #[test]
    fn blocks_are_per_consecutive_lines() {
        // A line without tabs breaks the column block.
        let t = "a\tb\nplain line\nccccccccccccc\td";
        assert_eq!(align(t), "a         b\nplain line\nccccccccccccc   d");
    }
}
