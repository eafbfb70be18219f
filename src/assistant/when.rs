//! Reading the day and time a patient types in a DM: "tomorrow at 10", "tue 5pm", "14/12",
//! "kal 5 baje", "mañana a las 5". Pure and forgiving about case, punctuation and emoji, but
//! strict about words: text with a word it does not know reads as nothing, so the assistant
//! asks again instead of booking a guess.
//!
//! Rules for the ambiguous cases, chosen for a practice in India or Europe:
//! - Numeric dates are day first: "14/12" and "14-12" are 14 December.
//! - A date without a year is the next such date on or after today; a date with a year must
//!   not be in the past. No day more than 366 days ahead is read.
//! - A weekday is the next such day, today included; "next tuesday" is the first Tuesday after
//!   today. "kal" is tomorrow (it also means yesterday, but nobody books yesterday).
//! - An hour without am/pm written as one digit 1–7 ("at 5", "5:30") is afternoon: clinics are
//!   open at 5pm, not 5am. "05:30" and two-digit hours are a 24-hour clock, as written.
//! - A lone number with no cue ("2") is more likely a count or a menu pick than a time, so only
//!   8–23 read alone; "at 2" or "2pm" is 2pm. Bare four-digit numbers ("1730") are not times.

use jiff::civil::{Date, Time, Weekday};
use jiff::ToSpan;

/// What a patient's text names: a day, a time of day, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub day: Option<Date>,
    pub time: Option<Time>,
}

/// Longer texts are messages, not dates; the cap also bounds the work done per message.
const MAX_CHARS: usize = 100;

/// Connectors and politeness that carry no meaning here ("at", "a las", "kal ko", "5 baje").
/// Any other unknown word makes the whole text unreadable.
const IGNORED: &[&str] = &[
    "at", "on", "the", "of", "by", "a", "las", "la", "el", "ko", "baje", "oclock", "please", "pls",
    "plz", "ok", "okay", "maybe", "sure", "yes", "ji",
];

/// Names of each weekday, Monday first, in English, Spanish and romanised Hindi.
const WEEKDAYS: [&str; 7] = [
    "mon monday lunes somvar somwar",
    "tue tues tuesday martes mangalvar mangalwar",
    "wed weds wednesday miercoles budhvar budhwar",
    "thu thur thurs thursday jueves guruvar guruwar",
    "fri friday viernes shukravar shukrawar",
    "sat saturday sabado shanivar shaniwar",
    "sun sunday domingo ravivar raviwar",
];

const MONTHS: &str = "january february march april may june july august september october \
    november december";

/// Reads `text` as a day and/or a time, with `today` being the date in the doctor's time zone.
/// None when the text names neither (or is anything else: the caller re-asks).
pub fn read(text: &str, today: Date) -> Option<When> {
    if text.chars().nth(MAX_CHARS).is_some() {
        return None;
    }
    let tokens = tokens(&normalize(text));
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    // A lone "2" is a count or a menu pick more often than 2pm; see the module doc.
    if let [only] = tokens[..] {
        if digits(only, 1..=1).is_some_and(|hour| hour < 8) {
            return None;
        }
    }
    Reader { today }.parse(&tokens, None, None)
}

/// Lower case without accents or apostrophes, with "a.m."/"p.m." as single words.
fn normalize(text: &str) -> String {
    let folded: String = text
        .to_lowercase()
        .chars()
        .filter(|c| *c != '\'' && *c != '’')
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            'ñ' => 'n',
            c => c,
        })
        .collect();
    folded.replace("a.m", "am").replace("p.m", "pm")
}

/// Splits into words and numbers ("5:30pm" is "5:30", "pm"). Anything that is neither a letter
/// nor a digit separates, except ":./-" between digits, which stay inside the number.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let numeric = current.starts_with(|c: char| c.is_ascii_digit());
        let joins = if c.is_ascii_digit() {
            numeric
        } else if c.is_alphanumeric() {
            !numeric && !current.is_empty()
        } else {
            numeric && ":./-".contains(c) && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        };
        if !joins && !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
        if c.is_alphanumeric() || joins {
            current.push(c);
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// The number written in `text` if it is only ASCII digits, with a length in `len`.
fn digits(text: &str, len: std::ops::RangeInclusive<usize>) -> Option<i16> {
    if !len.contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn weekday(word: &str) -> Option<Weekday> {
    let position = WEEKDAYS
        .iter()
        .position(|names| names.split(' ').any(|name| name == word))?;
    Weekday::from_monday_zero_offset(i8::try_from(position).ok()?).ok()
}

/// Full month names and any prefix of three letters or more ("dec", "sept").
fn month(word: &str) -> Option<i8> {
    let position = MONTHS
        .split_whitespace()
        .position(|name| word.len() >= 3 && name.starts_with(word))?;
    i8::try_from(position + 1).ok()
}

fn is_ordinal(word: &str) -> bool {
    matches!(word, "st" | "nd" | "rd" | "th")
}

struct Reader {
    today: Date,
}

impl Reader {
    /// Reads the tokens left, trying a day before a time at each position and backing off to
    /// the time when the rest does not read after the day ("14 5pm" is not a date).
    fn parse(&self, tokens: &[&str], day: Option<Date>, time: Option<Time>) -> Option<When> {
        let Some(first) = tokens.first() else {
            return (day.is_some() || time.is_some()).then_some(When { day, time });
        };
        if IGNORED.contains(first) {
            return self.parse(&tokens[1..], day, time);
        }
        self.day(tokens)
            .filter(|_| day.is_none())
            .and_then(|(new_day, used)| self.parse(&tokens[used..], Some(new_day), time))
            .or_else(|| {
                let (new_time, used) = clock(tokens).filter(|_| time.is_none())?;
                self.parse(&tokens[used..], day, Some(new_time))
            })
    }

    /// The day named at the start of `tokens`, within the horizon, and how many tokens name it.
    fn day(&self, tokens: &[&str]) -> Option<(Date, usize)> {
        let (day, used) = self.day_unchecked(tokens)?;
        let horizon = self.today.checked_add(366.days()).unwrap_or(Date::MAX);
        (self.today..=horizon).contains(&day).then_some((day, used))
    }

    /// The day named at the start of `tokens`, before the horizon check.
    fn day_unchecked(&self, tokens: &[&str]) -> Option<(Date, usize)> {
        let today = self.today;
        let after = |days: i64| today.checked_add(days.days()).ok();
        match tokens {
            ["day", "after", "tomorrow", ..] => Some((after(2)?, 3)),
            ["pasado", "manana", ..] => Some((after(2)?, 2)),
            ["next", word, ..] => Some((today.nth_weekday(1, weekday(word)?).ok()?, 2)),
            [word, ..] => match *word {
                "today" | "aaj" | "hoy" => Some((today, 1)),
                "tomorrow" | "tmrw" | "tmr" | "kal" | "manana" => Some((after(1)?, 1)),
                "parson" | "parso" => Some((after(2)?, 1)),
                _ => match weekday(word) {
                    Some(weekday) => Some((self.on_or_after(weekday)?, 1)),
                    None => self
                        .numeric_date(word)
                        .or_else(|| self.day_and_month(tokens)),
                },
            },
            [] => None,
        }
    }

    fn on_or_after(&self, weekday: Weekday) -> Option<Date> {
        if self.today.weekday() == weekday {
            return Some(self.today);
        }
        self.today.nth_weekday(1, weekday).ok()
    }

    /// "14/12", "14-12", "14/12/2026" (day first) and "2026-12-14".
    fn numeric_date(&self, word: &str) -> Option<(Date, usize)> {
        let separator = ['/', '-'].into_iter().find(|s| word.contains(*s))?;
        let parts: Vec<&str> = word.split(separator).collect();
        let date = match parts[..] {
            [year, month, day] if separator == '-' && year.len() == 4 => {
                self.date(digits(day, 1..=2)?, digits(month, 1..=2)?, Some(year))
            }
            [day, month] => self.date(digits(day, 1..=2)?, digits(month, 1..=2)?, None),
            [day, month, year] => self.date(digits(day, 1..=2)?, digits(month, 1..=2)?, Some(year)),
            _ => None,
        };
        Some((date?, 1))
    }

    /// "14 dec", "14th of december", "dec 14", "dec 14th", each optionally followed by a year.
    fn day_and_month(&self, tokens: &[&str]) -> Option<(Date, usize)> {
        let at = |i: usize| tokens.get(i).copied().unwrap_or("");
        let (day, month, used) = if let Some(month) = month(at(0)) {
            let used = 2 + usize::from(is_ordinal(at(2)));
            (digits(at(1), 1..=2)?, month, used)
        } else {
            let mut used = 1 + usize::from(is_ordinal(at(1)));
            used += usize::from(at(used) == "of");
            (digits(at(0), 1..=2)?, month(at(used))?, used + 1)
        };
        let year = digits(at(used), 4..=4).map(|_| at(used));
        let date = self.date(day, i16::from(month), year)?;
        Some((date, used + usize::from(year.is_some())))
    }

    /// The date with a written year, or else the next such date on or after today.
    fn date(&self, day: i16, month: i16, year: Option<&str>) -> Option<Date> {
        let (day, month) = (i8::try_from(day).ok()?, i8::try_from(month).ok()?);
        if let Some(year) = year {
            return Date::new(digits(year, 4..=4)?, month, day).ok();
        }
        let year = self.today.year();
        [Some(year), year.checked_add(1)]
            .into_iter()
            .flatten()
            .filter_map(|year| Date::new(year, month, day).ok())
            .find(|date| *date >= self.today)
    }
}

/// The time named at the start of `tokens` and how many tokens name it.
fn clock(tokens: &[&str]) -> Option<(Time, usize)> {
    let (first, rest) = tokens.split_first()?;
    if matches!(*first, "noon" | "midday") {
        return Some((Time::new(12, 0, 0, 0).ok()?, 1));
    }
    let (hour_text, minute) = match first.split_once([':', '.']) {
        Some((hour, minute)) => (hour, digits(minute, 2..=2)?),
        None => (*first, 0),
    };
    let hour = digits(hour_text, 1..=2)?;
    let has_minutes = first.len() > hour_text.len();
    let (hour, used) = match rest.first().copied() {
        Some("am") if (1..=12).contains(&hour) => (hour % 12, 2),
        Some("pm") if (1..=12).contains(&hour) => (hour % 12 + 12, 2),
        Some("noon") if hour == 12 && !has_minutes => (12, 2),
        Some("am" | "pm" | "noon") => return None,
        _ if hour_text.len() == 1 && (1..=7).contains(&hour) => (hour + 12, 1),
        _ if hour == 0 && !has_minutes => return None,
        _ => (hour, 1),
    };
    let time = Time::new(i8::try_from(hour).ok()?, i8::try_from(minute).ok()?, 0, 0).ok()?;
    Some((time, used))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    /// A Monday.
    const TODAY: Date = date(2026, 12, 14);

    /// The day `text` names on `today`, when it names no time.
    fn day_on(text: &str, today: Date) -> Option<Date> {
        read(text, today).filter(|when| when.time.is_none())?.day
    }

    fn day(text: &str) -> Option<Date> {
        day_on(text, TODAY)
    }

    /// The time `text` names, when it names no day.
    fn time(text: &str) -> Option<Time> {
        read(text, TODAY).filter(|when| when.day.is_none())?.time
    }

    fn both(text: &str) -> Option<(Date, Time)> {
        read(text, TODAY).and_then(|when| Some((when.day?, when.time?)))
    }

    fn hm(hour: i8, minute: i8) -> Time {
        Time::new(hour, minute, 0, 0).unwrap()
    }

    #[test]
    fn relative_days_in_english_hindi_and_spanish() {
        let in_days = |days: i32| TODAY.checked_add(days.days()).ok();
        for text in ["today", "Today!", "aaj", "hoy"] {
            assert_eq!(day(text), in_days(0), "{text}");
        }
        for text in ["tomorrow", "Tomorrow?", "tmrw", "kal", "Mañana!", "manana"] {
            assert_eq!(day(text), in_days(1), "{text}");
        }
        for text in ["day after tomorrow", "parson", "pasado mañana"] {
            assert_eq!(day(text), in_days(2), "{text}");
        }
    }

    #[test]
    fn a_weekday_is_the_next_one_today_included_and_next_is_after_today() {
        assert_eq!(day("mon"), Some(TODAY));
        assert_eq!(day("next monday"), Some(date(2026, 12, 21)));
        for text in ["tue", "Tuesday", "tues", "martes", "mangalvar", "next tue"] {
            assert_eq!(day(text), Some(date(2026, 12, 15)), "{text}");
        }
        for text in ["thurs", "jueves", "guruvar"] {
            assert_eq!(day(text), Some(date(2026, 12, 17)), "{text}");
        }
        assert_eq!(day("miércoles"), Some(date(2026, 12, 16)));
        assert_eq!(day("sábado"), day("shanivar"));
        assert_eq!(day("domingo"), Some(date(2026, 12, 20)));
    }

    #[test]
    fn dates_are_day_first_and_the_next_such_date_without_a_year() {
        for text in [
            "14 Dec",
            "14 december",
            "Dec 14",
            "14th Dec",
            "14/12",
            "14-12",
        ] {
            assert_eq!(day(text), Some(TODAY), "{text}");
        }
        for text in [
            "14th of December",
            "2026-12-14",
            "14 Dec 2026",
            "14/12/2026",
        ] {
            assert_eq!(day(text), Some(TODAY), "{text}");
        }
        assert_eq!(day("13 Dec"), Some(date(2027, 12, 13)));
        assert_eq!(day("1/2"), Some(date(2027, 2, 1)), "1 February");
    }

    #[test]
    fn dates_wrap_across_the_year_end() {
        let today = date(2026, 12, 28);
        assert_eq!(day_on("3 Jan", today), Some(date(2027, 1, 3)));
        assert_eq!(day_on("jan 3rd", today), Some(date(2027, 1, 3)));
        assert_eq!(day_on("tue", today), Some(date(2026, 12, 29)));
        assert_eq!(day_on("fri", today), Some(date(2027, 1, 1)));
    }

    #[test]
    fn february_29_only_in_leap_years() {
        let leap_day = Some(date(2028, 2, 29));
        assert_eq!(day_on("29 Feb", date(2027, 3, 1)), leap_day);
        assert_eq!(day_on("2028-02-29", date(2027, 6, 1)), leap_day);
        assert_eq!(read("29 Feb", date(2026, 3, 1)), None);
        assert_eq!(read("2027-02-29", date(2026, 3, 1)), None);
    }

    #[test]
    fn past_far_and_impossible_dates_are_not_read() {
        for text in [
            "31 Feb",
            "30/2",
            "32 Dec",
            "14/13",
            "2026-12-13",
            "2028-12-14",
        ] {
            assert_eq!(read(text, TODAY), None, "{text}");
        }
        assert_eq!(read("13/12/2026", TODAY), None);
    }

    #[test]
    fn times_with_am_pm_24_hour_clock_and_words() {
        for (texts, expected) in [
            (["5pm", "5 pm", "5PM."], hm(17, 0)),
            (["5:30pm", "5.30 pm", "17:30"], hm(17, 30)),
            (["noon", "midday", "12 noon"], hm(12, 0)),
            (["10am", "10 a.m.", "10 AM"], hm(10, 0)),
            (["12am", "00:00", "0:00"], hm(0, 0)),
        ] {
            for text in texts {
                assert_eq!(time(text), Some(expected), "{text}");
            }
        }
        assert_eq!(time("17.30"), Some(hm(17, 30)));
        assert_eq!(
            time("05:30"),
            Some(hm(5, 30)),
            "a leading zero is a 24-hour clock"
        );
    }

    #[test]
    fn a_bare_hour_from_1_to_7_is_afternoon() {
        assert_eq!(time("at 2"), Some(hm(14, 0)));
        assert_eq!(time("at 7"), Some(hm(19, 0)));
        assert_eq!(time("5:30"), Some(hm(17, 30)));
        assert_eq!(time("at 8"), Some(hm(8, 0)));
        assert_eq!(time("10"), Some(hm(10, 0)));
        assert_eq!(time("13"), Some(hm(13, 0)));
    }

    #[test]
    fn day_and_time_in_either_order() {
        let tomorrow = date(2026, 12, 15);
        let friday = date(2026, 12, 18);
        assert_eq!(both("tomorrow at 10"), Some((tomorrow, hm(10, 0))));
        assert_eq!(both("tue 5pm"), Some((tomorrow, hm(17, 0))));
        assert_eq!(both("5pm tomorrow"), Some((tomorrow, hm(17, 0))));
        assert_eq!(both("14 Dec 17:30"), Some((TODAY, hm(17, 30))));
        assert_eq!(both("next friday at 11:15am"), Some((friday, hm(11, 15))));
        assert_eq!(both("Tomorrow, @ 5 pm pls 🙏"), Some((tomorrow, hm(17, 0))));
        assert_eq!(both("kal 5 baje"), Some((tomorrow, hm(17, 0))));
        assert_eq!(both("mañana a las 5"), Some((tomorrow, hm(17, 0))));
    }

    #[test]
    fn anything_else_is_not_read() {
        for text in [
            "", " ?! ", "hello", "2", "0", "at", "25:00", "5:75", "1730", "13pm",
        ] {
            assert_eq!(read(text, TODAY), None, "{text:?}");
        }
        for text in [
            "tomorrow maybe if possible",
            "tomorrow morning",
            "next week",
        ] {
            assert_eq!(read(text, TODAY), None, "{text}");
        }
        for text in ["tomorrow tomorrow", "5pm 6pm", "14 5pm", "٣pm"] {
            assert_eq!(read(text, TODAY), None, "{text}");
        }
        assert_eq!(read(&format!("tomorrow{}", " ".repeat(100)), TODAY), None);
    }

    fn any_today() -> impl Strategy<Value = Date> {
        (0_i64..40_000).prop_map(|n| date(2000, 1, 1).checked_add(n.days()).unwrap())
    }

    /// Words the reader knows, for texts that often read as something.
    const VOCABULARY: &str = "today tomorrow next tue sun kal parson 14 3 29 31 dec jan feb th \
        of 2026 2027 14/12 29-2 2027-01-03 1/3/2028 5pm 5:30 at noon am 12";

    proptest! {
        #[test]
        fn never_panics(text in any::<String>(), today in any_today()) {
            let _ = read(&text, today);
        }

        #[test]
        fn a_day_read_is_never_past_nor_beyond_the_horizon(
            words in prop::collection::vec(
                prop::sample::select(VOCABULARY.split_whitespace().collect::<Vec<_>>()),
                1..5,
            ),
            today in any_today(),
        ) {
            if let Some(day) = read(&words.join(" "), today).and_then(|when| when.day) {
                prop_assert!(day >= today, "{day} before {today}");
                prop_assert!(day <= today.checked_add(366.days()).unwrap(), "{day} too far");
            }
        }

        #[test]
        fn a_date_within_the_horizon_reads_back(today in any_today(), offset in 0_i64..=366) {
            let day = today.checked_add(offset.days()).unwrap();
            let month = MONTHS.split_whitespace().nth(usize::try_from(day.month() - 1).unwrap());
            let month = &month.unwrap()[..3];
            let mut texts = vec![day.to_string()];
            // A year from today, the same day and month name today again.
            if offset < 365 {
                texts.extend([
                    format!("{} {month}", day.day()),
                    format!("{month} {}", day.day()),
                    format!("{}/{}", day.day(), day.month()),
                ]);
            }
            for text in texts {
                prop_assert_eq!(day_on(&text, today), Some(day), "{}", text);
            }
        }

        #[test]
        fn every_24_hour_clock_time_reads_as_itself(hour in 0_i8..24, minute in 0_i8..60) {
            prop_assert_eq!(time(&format!("{hour:02}:{minute:02}")), Some(hm(hour, minute)));
            prop_assert_eq!(time(&format!("{hour:02}.{minute:02}")), Some(hm(hour, minute)));
        }
    }
}
