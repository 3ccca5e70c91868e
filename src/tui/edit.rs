//! Editing one line of text with a cursor, as shells do: the promote
//! picker's name editor. Pure, so it is tested without a terminal.

use super::keymap::Action;

/// Applies an editing action to `text` with the cursor at char index
/// `cursor`; false when the action is not an edit (the caller handles it).
pub fn apply(text: &mut String, cursor: &mut usize, action: Action) -> bool {
    let len = text.chars().count();
    *cursor = (*cursor).min(len);
    // Byte offset of a char index.
    let at = |text: &str, i: usize| text.char_indices().nth(i).map_or(text.len(), |(b, _)| b);
    match action {
        Action::Input(c) => {
            text.insert(at(text, *cursor), c);
            *cursor += 1;
        }
        Action::Backspace if *cursor > 0 => {
            text.remove(at(text, *cursor - 1));
            *cursor -= 1;
        }
        Action::DeleteNext if *cursor < len => {
            text.remove(at(text, *cursor));
        }
        Action::CursorLeft => *cursor = cursor.saturating_sub(1),
        Action::CursorRight => *cursor = (*cursor + 1).min(len),
        Action::CursorHome => *cursor = 0,
        Action::CursorEnd => *cursor = len,
        Action::Erase => {
            text.replace_range(..at(text, *cursor), "");
            *cursor = 0;
        }
        Action::DeleteWord => {
            let chars: Vec<char> = text.chars().collect();
            let mut start = *cursor;
            // Separators before the word go with it, as in a shell.
            while start > 0 && !is_word(chars[start - 1]) {
                start -= 1;
            }
            while start > 0 && is_word(chars[start - 1]) {
                start -= 1;
            }
            let (from, to) = (at(text, start), at(text, *cursor));
            text.replace_range(from..to, "");
            *cursor = start;
        }
        // At either end: nothing to delete, still an edit key.
        Action::Backspace | Action::DeleteNext => {}
        _ => return false,
    }
    true
}

/// Word characters for Ctrl-w: a name's `_`, `-` and `.` end words, so
/// `ocr-clean_v2` loses `v2` first.
fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(start: &str, cursor: usize, keys: &[Action]) -> (String, usize) {
        let mut text = start.to_string();
        let mut cur = cursor;
        for &k in keys {
            assert!(apply(&mut text, &mut cur, k), "{k:?} is an edit");
        }
        (text, cur)
    }

    #[test]
    fn the_name_editor_edits_like_a_shell_line() {
        use Action::*;
        // Typing inserts at the cursor.
        assert_eq!(
            run(
                "clean",
                0,
                &[Input('o'), Input('c'), Input('r'), Input('-')]
            ),
            ("ocr-clean".into(), 4)
        );
        // Left, Backspace, Delete in the middle, with a multi-byte char.
        assert_eq!(
            run("naïve", 5, &[CursorLeft, CursorLeft, Backspace]),
            ("nave".into(), 2)
        );
        assert_eq!(run("naïve", 2, &[DeleteNext]), ("nave".into(), 2));
        // Home, End, and keys at the ends change nothing.
        assert_eq!(run("ab", 1, &[CursorHome, Backspace]), ("ab".into(), 0));
        assert_eq!(
            run("ab", 1, &[CursorEnd, DeleteNext, CursorRight]),
            ("ab".into(), 2)
        );
        // Ctrl-u deletes before the cursor; Ctrl-w the word before it.
        assert_eq!(run("ocr-clean_v2", 4, &[Erase]), ("clean_v2".into(), 0));
        assert_eq!(
            run("ocr-clean_v2", 12, &[DeleteWord]),
            ("ocr-clean_".into(), 10)
        );
        assert_eq!(run("ocr-clean_", 10, &[DeleteWord]), ("ocr-".into(), 4));
        assert_eq!(run("ocr", 3, &[DeleteWord, DeleteWord]), ("".into(), 0));
        // A cursor past the end (the text changed under it) is clamped.
        assert_eq!(run("ab", 9, &[Input('c')]), ("abc".into(), 3));
        let (mut t, mut c) = ("x".to_string(), 0);
        assert!(!apply(&mut t, &mut c, Accept), "Enter is not an edit");
    }
}
