//! Free text a doctor types: trimmed, line endings normalised, length-limited, no control
//! characters (line breaks allowed where the field is multi-line).

/// Blank gives `None`. `what` names the field in messages, e.g. "A description".
pub fn optional_text(input: &str, max_chars: usize, what: &str) -> Result<Option<String>, String> {
    let text = input.trim().replace("\r\n", "\n");
    if text.chars().count() > max_chars {
        return Err(format!("{what} has at most {max_chars} characters."));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("{what} cannot contain control characters."));
    }
    Ok((!text.is_empty()).then_some(text))
}

/// Like [`optional_text`], for a one-line field: line breaks are refused too.
pub fn optional_line(input: &str, max_chars: usize, what: &str) -> Result<Option<String>, String> {
    let text = optional_text(input, max_chars, what)?;
    if text.as_deref().is_some_and(|t| t.contains('\n')) {
        return Err(format!("{what} fits on one line."));
    }
    Ok(text)
}

/// What the doctor typed, in quotes, for a message about it: cut short when long, control
/// characters shown as `?`, so a message never carries a page of pasted text.
pub fn quoted(input: &str) -> String {
    const SHOWN: usize = 24;
    let mut shown: String = input
        .chars()
        .take(SHOWN)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if input.chars().nth(SHOWN).is_some() {
        shown.push('…');
    }
    format!("“{shown}”")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_limited_and_free_of_control_characters() {
        assert_eq!(
            optional_text("  a\r\nb ", 10, "A note"),
            Ok(Some("a\nb".into()))
        );
        assert_eq!(optional_text("   ", 10, "A note"), Ok(None));
        assert_eq!(
            optional_text("abcdef", 5, "A note"),
            Err("A note has at most 5 characters.".into())
        );
        assert!(optional_text("a\u{7}b", 10, "A note").is_err());
        assert!(optional_line("a\nb", 10, "A reason").is_err());
    }

    #[test]
    fn quoted_input_is_short_and_printable() {
        assert_eq!(quoted("9:7"), "“9:7”");
        assert_eq!(quoted("a\u{0}b"), "“a?b”");
        assert_eq!(quoted(&"x".repeat(1000)), format!("“{}…”", "x".repeat(24)));
    }
}
