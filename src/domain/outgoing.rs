//! What Clariva sends into an Instagram conversation, within Instagram's limits: text of at
//! most 1,000 bytes a message (longer text goes out as several, split between words), up to
//! 13 quick replies with titles of at most 20 characters, or a button template of up to 3
//! buttons (a link, or a postback) under text of at most 640 characters.

use serde::{Deserialize, Serialize};

/// The most bytes of text one Instagram message may carry.
pub const MAX_TEXT_BYTES: usize = 1000;
pub const MAX_QUICK_REPLIES: usize = 13;
pub const MAX_TITLE_CHARS: usize = 20;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_TEXT_CHARS: usize = 640;

/// A tappable answer shown under a message; tapping sends `title` as text and `payload` to us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub title: String,
    pub payload: String,
}

/// A button of a button template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Button {
    /// Opens `url` in Instagram's browser (a payment link, say).
    Link { title: String, url: String },
    /// Sends `payload` to us as a postback.
    Postback { title: String, payload: String },
}

/// The extras a message may carry besides its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<QuickReply>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl Extras {
    pub fn is_empty(&self) -> bool {
        self.quick_replies.is_empty() && self.buttons.is_empty()
    }

    /// Within Instagram's limits: at most 13 quick replies and 3 buttons, titles cut to 20
    /// characters; a message has quick replies or buttons, and buttons win.
    pub fn within_limits(mut self) -> Self {
        self.quick_replies.truncate(MAX_QUICK_REPLIES);
        self.buttons.truncate(MAX_BUTTONS);
        for reply in &mut self.quick_replies {
            reply.title = cut(&reply.title, MAX_TITLE_CHARS);
        }
        for button in &mut self.buttons {
            let (Button::Link { title, .. } | Button::Postback { title, .. }) = button;
            *title = cut(title, MAX_TITLE_CHARS);
        }
        if !self.buttons.is_empty() {
            self.quick_replies.clear();
        }
        self
    }
}

/// `text` cut to at most `chars` characters.
pub fn cut(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// `text` as messages of at most `max_bytes` bytes each: split after the last space or line
/// break that fits, else between characters; never inside a character. Blank text: none.
pub fn split_text(text: &str, max_bytes: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.len() <= max_bytes {
            parts.push(rest.to_owned());
            break;
        }
        let mut end = max_bytes;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let at = rest[..end]
            .rfind(char::is_whitespace)
            .filter(|&space| space > 0)
            .unwrap_or(end);
        let at = if at == 0 {
            rest.chars().next().map_or(rest.len(), char::len_utf8)
        } else {
            at
        };
        parts.push(rest[..at].trim_end().to_owned());
        rest = rest[at..].trim_start();
    }
    parts
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_text_is_one_message_and_blank_text_none() {
        assert_eq!(split_text("  Hello  ", 1000), ["Hello"]);
        assert!(split_text("   ", 1000).is_empty());
    }

    #[test]
    fn long_text_splits_between_words() {
        let text = "one two three four";
        assert_eq!(split_text(text, 9), ["one two", "three", "four"]);
        assert_eq!(split_text("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn multibyte_characters_are_never_cut() {
        let text = "ñ".repeat(10); // 20 bytes
        let parts = split_text(&text, 5);
        assert!(parts
            .iter()
            .all(|p| p.len() <= 5 && p.chars().all(|c| c == 'ñ')));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn extras_are_kept_within_instagram_limits() {
        let many = Extras {
            quick_replies: (0..20)
                .map(|i| QuickReply {
                    title: format!("A very long title number {i}"),
                    payload: format!("P{i}"),
                })
                .collect(),
            buttons: vec![],
        }
        .within_limits();
        assert_eq!(many.quick_replies.len(), 13);
        assert!(many
            .quick_replies
            .iter()
            .all(|r| r.title.chars().count() <= 20));
        let both = Extras {
            quick_replies: many.quick_replies,
            buttons: (0..5)
                .map(|i| Button::Postback {
                    title: format!("Button {i}"),
                    payload: format!("B{i}"),
                })
                .collect(),
        }
        .within_limits();
        assert_eq!(both.buttons.len(), 3);
        assert!(both.quick_replies.is_empty(), "buttons win");
    }

    proptest! {
        #[test]
        fn split_text_keeps_every_word_and_every_part_fits(
            text in "[a-zñ🙏 \n]{0,400}",
            max in 4_usize..60,
        ) {
            let parts = split_text(&text, max);
            for part in &parts {
                prop_assert!(part.len() <= max, "{part:?} over {max}");
                prop_assert!(!part.is_empty());
            }
            let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
            let joined = parts.join(" ");
            // Words longer than a part are cut; everything else is kept in order.
            prop_assert_eq!(joined.chars().filter(|c| !c.is_whitespace()).collect::<String>(),
                text.chars().filter(|c| !c.is_whitespace()).collect::<String>());
            if text.split_whitespace().all(|w| w.len() <= max) {
                prop_assert_eq!(words(&joined), words(&text));
            }
        }
    }
}
