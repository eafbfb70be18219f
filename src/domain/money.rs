//! Money: integer amounts in a currency's minor units, entered and shown with that
//! currency's number of decimals (ISO 4217 exponent: JPY 0, INR 2, KWD 3).

use super::text::quoted;

/// A currency a practice can charge in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    pub name: &'static str,
    /// Digits after the decimal point.
    pub exponent: u8,
}

const fn currency(code: &'static str, name: &'static str, exponent: u8) -> Currency {
    Currency {
        code,
        name,
        exponent,
    }
}

/// The ISO 4217 currencies in circulation (funds and precious-metal codes left out), by code.
pub const CURRENCIES: &[Currency] = &[
    currency("AED", "UAE dirham", 2),
    currency("AFN", "Afghan afghani", 2),
    currency("ALL", "Albanian lek", 2),
    currency("AMD", "Armenian dram", 2),
    currency("ANG", "Netherlands Antillean guilder", 2),
    currency("AOA", "Angolan kwanza", 2),
    currency("ARS", "Argentine peso", 2),
    currency("AUD", "Australian dollar", 2),
    currency("AWG", "Aruban florin", 2),
    currency("AZN", "Azerbaijani manat", 2),
    currency("BAM", "Bosnia and Herzegovina convertible mark", 2),
    currency("BBD", "Barbadian dollar", 2),
    currency("BDT", "Bangladeshi taka", 2),
    currency("BGN", "Bulgarian lev", 2),
    currency("BHD", "Bahraini dinar", 3),
    currency("BIF", "Burundian franc", 0),
    currency("BMD", "Bermudian dollar", 2),
    currency("BND", "Brunei dollar", 2),
    currency("BOB", "Bolivian boliviano", 2),
    currency("BRL", "Brazilian real", 2),
    currency("BSD", "Bahamian dollar", 2),
    currency("BTN", "Bhutanese ngultrum", 2),
    currency("BWP", "Botswana pula", 2),
    currency("BYN", "Belarusian ruble", 2),
    currency("BZD", "Belize dollar", 2),
    currency("CAD", "Canadian dollar", 2),
    currency("CDF", "Congolese franc", 2),
    currency("CHF", "Swiss franc", 2),
    currency("CLP", "Chilean peso", 0),
    currency("CNY", "Chinese yuan", 2),
    currency("COP", "Colombian peso", 2),
    currency("CRC", "Costa Rican colón", 2),
    currency("CUP", "Cuban peso", 2),
    currency("CVE", "Cape Verdean escudo", 2),
    currency("CZK", "Czech koruna", 2),
    currency("DJF", "Djiboutian franc", 0),
    currency("DKK", "Danish krone", 2),
    currency("DOP", "Dominican peso", 2),
    currency("DZD", "Algerian dinar", 2),
    currency("EGP", "Egyptian pound", 2),
    currency("ERN", "Eritrean nakfa", 2),
    currency("ETB", "Ethiopian birr", 2),
    currency("EUR", "Euro", 2),
    currency("FJD", "Fijian dollar", 2),
    currency("FKP", "Falkland Islands pound", 2),
    currency("GBP", "Pound sterling", 2),
    currency("GEL", "Georgian lari", 2),
    currency("GHS", "Ghanaian cedi", 2),
    currency("GIP", "Gibraltar pound", 2),
    currency("GMD", "Gambian dalasi", 2),
    currency("GNF", "Guinean franc", 0),
    currency("GTQ", "Guatemalan quetzal", 2),
    currency("GYD", "Guyanese dollar", 2),
    currency("HKD", "Hong Kong dollar", 2),
    currency("HNL", "Honduran lempira", 2),
    currency("HTG", "Haitian gourde", 2),
    currency("HUF", "Hungarian forint", 2),
    currency("IDR", "Indonesian rupiah", 2),
    currency("ILS", "Israeli new shekel", 2),
    currency("INR", "Indian rupee", 2),
    currency("IQD", "Iraqi dinar", 3),
    currency("IRR", "Iranian rial", 2),
    currency("ISK", "Icelandic króna", 0),
    currency("JMD", "Jamaican dollar", 2),
    currency("JOD", "Jordanian dinar", 3),
    currency("JPY", "Japanese yen", 0),
    currency("KES", "Kenyan shilling", 2),
    currency("KGS", "Kyrgyzstani som", 2),
    currency("KHR", "Cambodian riel", 2),
    currency("KMF", "Comorian franc", 0),
    currency("KPW", "North Korean won", 2),
    currency("KRW", "South Korean won", 0),
    currency("KWD", "Kuwaiti dinar", 3),
    currency("KYD", "Cayman Islands dollar", 2),
    currency("KZT", "Kazakhstani tenge", 2),
    currency("LAK", "Lao kip", 2),
    currency("LBP", "Lebanese pound", 2),
    currency("LKR", "Sri Lankan rupee", 2),
    currency("LRD", "Liberian dollar", 2),
    currency("LSL", "Lesotho loti", 2),
    currency("LYD", "Libyan dinar", 3),
    currency("MAD", "Moroccan dirham", 2),
    currency("MDL", "Moldovan leu", 2),
    currency("MGA", "Malagasy ariary", 2),
    currency("MKD", "Macedonian denar", 2),
    currency("MMK", "Myanmar kyat", 2),
    currency("MNT", "Mongolian tögrög", 2),
    currency("MOP", "Macanese pataca", 2),
    currency("MRU", "Mauritanian ouguiya", 2),
    currency("MUR", "Mauritian rupee", 2),
    currency("MVR", "Maldivian rufiyaa", 2),
    currency("MWK", "Malawian kwacha", 2),
    currency("MXN", "Mexican peso", 2),
    currency("MYR", "Malaysian ringgit", 2),
    currency("MZN", "Mozambican metical", 2),
    currency("NAD", "Namibian dollar", 2),
    currency("NGN", "Nigerian naira", 2),
    currency("NIO", "Nicaraguan córdoba", 2),
    currency("NOK", "Norwegian krone", 2),
    currency("NPR", "Nepalese rupee", 2),
    currency("NZD", "New Zealand dollar", 2),
    currency("OMR", "Omani rial", 3),
    currency("PAB", "Panamanian balboa", 2),
    currency("PEN", "Peruvian sol", 2),
    currency("PGK", "Papua New Guinean kina", 2),
    currency("PHP", "Philippine peso", 2),
    currency("PKR", "Pakistani rupee", 2),
    currency("PLN", "Polish złoty", 2),
    currency("PYG", "Paraguayan guaraní", 0),
    currency("QAR", "Qatari riyal", 2),
    currency("RON", "Romanian leu", 2),
    currency("RSD", "Serbian dinar", 2),
    currency("RUB", "Russian ruble", 2),
    currency("RWF", "Rwandan franc", 0),
    currency("SAR", "Saudi riyal", 2),
    currency("SBD", "Solomon Islands dollar", 2),
    currency("SCR", "Seychellois rupee", 2),
    currency("SDG", "Sudanese pound", 2),
    currency("SEK", "Swedish krona", 2),
    currency("SGD", "Singapore dollar", 2),
    currency("SHP", "Saint Helena pound", 2),
    currency("SLE", "Sierra Leonean leone", 2),
    currency("SOS", "Somali shilling", 2),
    currency("SRD", "Surinamese dollar", 2),
    currency("SSP", "South Sudanese pound", 2),
    currency("STN", "São Tomé and Príncipe dobra", 2),
    currency("SYP", "Syrian pound", 2),
    currency("SZL", "Eswatini lilangeni", 2),
    currency("THB", "Thai baht", 2),
    currency("TJS", "Tajikistani somoni", 2),
    currency("TMT", "Turkmenistan manat", 2),
    currency("TND", "Tunisian dinar", 3),
    currency("TOP", "Tongan paʻanga", 2),
    currency("TRY", "Turkish lira", 2),
    currency("TTD", "Trinidad and Tobago dollar", 2),
    currency("TWD", "New Taiwan dollar", 2),
    currency("TZS", "Tanzanian shilling", 2),
    currency("UAH", "Ukrainian hryvnia", 2),
    currency("UGX", "Ugandan shilling", 0),
    currency("USD", "US dollar", 2),
    currency("UYU", "Uruguayan peso", 2),
    currency("UZS", "Uzbekistani soʻm", 2),
    currency("VES", "Venezuelan bolívar", 2),
    currency("VND", "Vietnamese dong", 0),
    currency("VUV", "Vanuatu vatu", 0),
    currency("WST", "Samoan tālā", 2),
    currency("XAF", "Central African CFA franc", 0),
    currency("XCD", "East Caribbean dollar", 2),
    currency("XOF", "West African CFA franc", 0),
    currency("XPF", "CFP franc", 0),
    currency("YER", "Yemeni rial", 2),
    currency("ZAR", "South African rand", 2),
    currency("ZMW", "Zambian kwacha", 2),
    currency("ZWG", "Zimbabwe gold", 2),
];

/// Characters that may separate digit groups or decimals: `.` `,`, spaces and `'`.
fn is_separator(c: char) -> bool {
    matches!(c, '.' | ',' | '\'' | ' ' | '\u{a0}' | '\u{202f}')
}

/// The digits of a whole part whose separators all group: threes (`1,234,567`), or twos
/// before the last three (Indian `12,34,567`), with one kind of separator. `None` otherwise.
fn ungrouped(whole: &str) -> Option<String> {
    let mut kinds = whole.chars().filter(|c| is_separator(*c));
    let Some(kind) = kinds.next() else {
        return Some(whole.to_owned());
    };
    if kinds.any(|c| c != kind) {
        return None;
    }
    let groups: Vec<&str> = whole.split(kind).collect();
    let (first, rest) = groups.split_first()?;
    let (last, middle) = rest.split_last()?;
    let digits = |g: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&g.len()) && g.chars().all(|c| c.is_ascii_digit())
    };
    let western = digits(first, 1..=3) && middle.iter().all(|g| digits(g, 3..=3));
    let indian = digits(first, 1..=2) && middle.iter().all(|g| digits(g, 2..=2));
    (digits(last, 3..=3) && (western || indian)).then(|| groups.concat())
}

/// The largest fee accepted, in major units: far above any consultation, far below overflow.
const MAX_MAJOR_UNITS: i64 = 1_000_000_000;

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        let code = code.trim().to_uppercase();
        if code.is_empty() {
            return Err("Choose the currency you charge in.".into());
        }
        CURRENCIES
            .iter()
            .copied()
            .find(|c| c.code == code)
            .ok_or_else(|| {
                format!(
                    "{} is not a currency we support; choose one from the list.",
                    quoted(&code)
                )
            })
    }

    fn scale(self) -> i64 {
        10_i64.pow(u32::from(self.exponent))
    }

    /// Reads an amount as a doctor writes it into minor units; zero is allowed, negative is
    /// not. Accepted: `1500`, `1,500.50`, `1.500,50`, `1 500,50`, `1'500.50`, `49,90`,
    /// Indian grouping `1,00,000`. A separator is a grouping one only where it groups
    /// (threes, or twos before the last three); the last `.` or `,` is the decimal point when
    /// the other kind groups before it. A lone `.` or `,` followed by three digits could be
    /// either, and is read as a decimal point only for a three-decimal currency's `.` and as
    /// grouping only for a comma in other currencies; anything else is refused with both
    /// readings, rather than guessed.
    pub fn parse_amount(self, input: &str) -> Result<i64, String> {
        let text = input.trim();
        if text.is_empty() {
            return Err("Enter a fee (0 for free).".into());
        }
        if text.starts_with('-') {
            return Err("A fee cannot be negative.".into());
        }
        let not_a_number = || "Enter the fee as a number, like 500 or 499.50.".to_owned();
        if !text.chars().all(|c| c.is_ascii_digit() || is_separator(c)) {
            return Err(not_a_number());
        }
        let (whole, fraction) = self.split_decimal(text)?;
        let whole = ungrouped(whole).ok_or_else(not_a_number)?;
        if whole.is_empty() && fraction.is_empty() {
            return Err(not_a_number());
        }
        if fraction.len() > usize::from(self.exponent) {
            return Err(match self.exponent {
                0 => format!("{} amounts are whole numbers.", self.code),
                n => format!("{} amounts have at most {n} decimals.", self.code),
            });
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .ok()
                .filter(|w| *w <= MAX_MAJOR_UNITS)
                .ok_or("That fee is too large.")?
        };
        let padded = format!("{fraction:0<width$}", width = usize::from(self.exponent));
        let fraction: i64 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| not_a_number())?
        };
        Ok(whole * self.scale() + fraction)
    }

    /// Splits `text` at its decimal point: (the whole part, still grouped; the decimals).
    fn split_decimal(self, text: &str) -> Result<(&str, &str), String> {
        let marks: Vec<(usize, char)> = text
            .char_indices()
            .filter(|(_, c)| matches!(c, '.' | ','))
            .collect();
        let Some(&(last_at, last)) = marks.last() else {
            return Ok((text, ""));
        };
        let (whole, fraction) = (&text[..last_at], &text[last_at + 1..]);
        if !fraction.chars().all(|c| c.is_ascii_digit()) {
            return Err("Enter the fee as a number, like 500 or 499.50.".into());
        }
        let same_kind = marks.iter().filter(|(_, c)| *c == last).count();
        if same_kind > 1 {
            // `1,000,000` or `1.234.567`: all grouping (`1,000.000,5` is refused later).
            return Ok((text, ""));
        }
        let other_groups = whole.chars().any(|c| is_separator(c) && c != last);
        if other_groups
            || fraction.len() != 3
            || ungrouped(whole).is_some_and(|w| w.trim_start_matches('0').is_empty())
        {
            return Ok((whole, fraction));
        }
        // One `.` or `,` before exactly three digits, e.g. `1.500`.
        match (last, self.exponent) {
            ('.', 3) => Ok((whole, fraction)),
            (',', 0..=2) => Ok((text, "")),
            _ => Err(self.ambiguous(text, whole, fraction)),
        }
    }

    /// The refusal of `whole` + one separator + three digits, with the readings it has.
    fn ambiguous(self, text: &str, whole: &str, fraction: &str) -> String {
        let digits = ungrouped(whole).unwrap_or_default();
        let thousandths = format!("{digits}{fraction}").parse::<i64>().ok();
        let as_thousands = thousandths
            .and_then(|n| n.checked_mul(self.scale()))
            .filter(|_| digits.parse::<i64>().is_ok_and(|w| w < MAX_MAJOR_UNITS));
        // Three decimals fit this currency only if the last ones are zeros.
        let as_decimal = thousandths
            .map(|n| n * self.scale())
            .filter(|minor| minor % 1000 == 0)
            .map(|minor| minor / 1000);
        let readings: Vec<(String, String)> = [as_thousands, as_decimal]
            .into_iter()
            .flatten()
            .map(|minor| {
                let shown = format!("{} {}", self.format_amount(minor), self.code);
                let plain = self.format_amount(minor).replace(',', "");
                (shown, plain)
            })
            .collect();
        let shown: Vec<&str> = readings.iter().map(|r| r.0.as_str()).collect();
        let plain: Vec<&str> = readings.iter().map(|r| r.1.as_str()).collect();
        match readings.len() {
            0 => "Enter the fee as a number, like 500 or 499.50.".into(),
            1 => format!(
                "{} would be read as {}: write {} to confirm.",
                quoted(text),
                shown[0],
                plain[0]
            ),
            _ => format!(
                "{} could be {}: write {} to say which.",
                quoted(text),
                shown.join(" or "),
                plain.join(" or ")
            ),
        }
    }

    /// Shows minor units with this currency's decimals and thousands separators: `1,500.50`.
    pub fn format_amount(self, minor: i64) -> String {
        let whole = (minor / self.scale()).to_string();
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        match self.exponent {
            0 => grouped,
            n => format!(
                "{grouped}.{:0width$}",
                minor % self.scale(),
                width = usize::from(n)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn amounts_follow_the_currency_exponent() {
        assert_eq!(c("INR").parse_amount("1,500.5"), Ok(150_050));
        assert_eq!(c("USD").parse_amount("0"), Ok(0));
        assert_eq!(c("JPY").parse_amount("3000"), Ok(3000));
        assert_eq!(c("KWD").parse_amount("12.345"), Ok(12_345));
        assert_eq!(c("KWD").parse_amount(".5"), Ok(500));
        assert!(c("JPY")
            .parse_amount("3000.5")
            .unwrap_err()
            .contains("whole numbers"));
        assert!(c("INR")
            .parse_amount("1.2345")
            .unwrap_err()
            .contains("at most 2 decimals"));
    }

    #[test]
    fn amounts_are_read_as_doctors_write_them() {
        let eur = c("EUR");
        assert_eq!(eur.parse_amount("49,90"), Ok(4_990));
        assert_eq!(eur.parse_amount("1.234,50"), Ok(123_450));
        assert_eq!(eur.parse_amount("1 234,50"), Ok(123_450));
        assert_eq!(eur.parse_amount("1\u{a0}234,5"), Ok(123_450));
        assert_eq!(c("CHF").parse_amount("1'234.50"), Ok(123_450));
        assert_eq!(c("USD").parse_amount("1,234,567.89"), Ok(123_456_789));
        assert_eq!(c("USD").parse_amount("1,500"), Ok(150_000));
        assert_eq!(c("INR").parse_amount("1,00,000"), Ok(10_000_000));
        assert_eq!(c("INR").parse_amount("12,34,567.50"), Ok(123_456_750));
        assert_eq!(c("JPY").parse_amount("1,500"), Ok(1_500));
        assert_eq!(c("JPY").parse_amount("1.234.567"), Ok(1_234_567));
        assert_eq!(c("KWD").parse_amount("1,234.500"), Ok(1_234_500));
        assert_eq!(c("KWD").parse_amount("1.234,500"), Ok(1_234_500));
        assert_eq!(
            eur.parse_amount("0,500").unwrap_err(),
            "EUR amounts have at most 2 decimals."
        );
    }

    #[test]
    fn separators_that_do_not_group_are_refused() {
        for bad in [
            "1,2345",
            "12,3,456",
            "1,00,0000",
            "1.000,000,5",
            "1,000.000,5",
            "1 000'000",
            "1,000,",
        ] {
            assert!(c("USD").parse_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_ambiguous_amount_is_refused_with_its_readings() {
        assert_eq!(
            c("EUR").parse_amount("1.500").unwrap_err(),
            "“1.500” could be 1,500.00 EUR or 1.50 EUR: write 1500.00 or 1.50 to say which."
        );
        assert_eq!(
            c("KWD").parse_amount("1,500").unwrap_err(),
            "“1,500” could be 1,500.000 KWD or 1.500 KWD: write 1500.000 or 1.500 to say which."
        );
        assert_eq!(
            c("JPY").parse_amount("1.234").unwrap_err(),
            "“1.234” would be read as 1,234 JPY: write 1234 to confirm."
        );
    }

    #[test]
    fn bad_amounts_say_what_is_wrong() {
        assert!(c("INR")
            .parse_amount("-5")
            .unwrap_err()
            .contains("negative"));
        assert!(c("INR").parse_amount("").is_err());
        assert!(c("INR").parse_amount("five").is_err());
        assert!(c("INR").parse_amount("1.2.3").is_err());
        assert!(c("INR").parse_amount(".").is_err());
        assert!(c("INR").parse_amount("99999999999").is_err());
    }

    #[test]
    fn amounts_are_shown_with_the_currency_decimals() {
        assert_eq!(c("INR").format_amount(150_050), "1,500.50");
        assert_eq!(c("JPY").format_amount(1_234_567), "1,234,567");
        assert_eq!(c("KWD").format_amount(12_005), "12.005");
        assert_eq!(c("USD").format_amount(0), "0.00");
    }

    #[test]
    fn the_currency_table_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].code < w[1].code));
        assert!(CURRENCIES
            .iter()
            .all(|c| c.code.len() == 3 && c.exponent <= 3));
    }

    #[test]
    fn currency_codes_are_checked() {
        assert_eq!(c(" inr ").code, "INR");
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("").is_err());
    }

    /// The currencies of each exponent the table has: 0, 2 and 3.
    fn any_currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(CURRENCIES)
    }

    /// `minor` written with `group` between thousands (Indian: lakhs and crores when
    /// `indian`) and `point` before the decimals, as doctors in other places write it.
    fn written(currency: Currency, minor: i64, group: char, point: char, indian: bool) -> String {
        let whole = (minor / currency.scale()).to_string();
        let mut sizes = vec![];
        let mut left = whole.len();
        let mut size = 3;
        while left > size {
            sizes.push(size);
            left -= size;
            size = if indian { 2 } else { 3 };
        }
        let mut out = whole[..left].to_owned();
        let mut at = left;
        for size in sizes.iter().rev() {
            out.push(group);
            out.push_str(&whole[at..at + size]);
            at += size;
        }
        if currency.exponent > 0 {
            let fraction = minor % currency.scale();
            out.push(point);
            out.push_str(&format!(
                "{fraction:0width$}",
                width = usize::from(currency.exponent)
            ));
        }
        out
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_amount_back(minor in 0_i64..=MAX_MAJOR_UNITS, currency in any_currency()) {
            let shown = currency.format_amount(minor);
            prop_assert_eq!(currency.parse_amount(&shown), Ok(minor));
        }

        #[test]
        fn every_exponent_round_trips(minor in 0_i64..=MAX_MAJOR_UNITS, exponent in prop::sample::select(&[0_u8, 2, 3][..])) {
            let currency = CURRENCIES.iter().copied().find(|c| c.exponent == exponent).unwrap();
            prop_assert_eq!(currency.parse_amount(&currency.format_amount(minor)), Ok(minor));
            prop_assert_eq!(currency.parse_amount(&written(currency, minor, ',', '.', true)), Ok(minor));
        }

        /// Written the other way round (`1.234,50`, `1 234,50`), an amount is read right or
        /// refused as ambiguous, never misread.
        #[test]
        fn other_writings_are_read_right_or_refused(minor in 0_i64..=MAX_MAJOR_UNITS, currency in any_currency(), group in prop::sample::select(&['.', ' ', '\''][..])) {
            let text = written(currency, minor, group, ',', false);
            match currency.parse_amount(&text) {
                Ok(read) => prop_assert_eq!(read, minor, "{}", text),
                Err(message) => prop_assert!(message.contains("could be") || message.contains("would be read as"), "{}: {}", text, message),
            }
        }

        #[test]
        fn any_text_is_read_or_refused_without_panicking(text in "\\PC{0,24}", currency in any_currency()) {
            let _ = currency.parse_amount(&text);
        }
    }
}
