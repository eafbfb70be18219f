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
}
