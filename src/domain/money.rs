//! Money: integer amounts in a currency's minor units, entered and shown with that
//! currency's number of decimals (ISO 4217 exponent: JPY 0, INR 2, KWD 3).

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

/// The currencies offered, by ISO 4217 code.
pub const CURRENCIES: &[Currency] = &[
    currency("AED", "UAE dirham", 2),
    currency("ARS", "Argentine peso", 2),
    currency("AUD", "Australian dollar", 2),
    currency("BDT", "Bangladeshi taka", 2),
    currency("BHD", "Bahraini dinar", 3),
    currency("BRL", "Brazilian real", 2),
    currency("CAD", "Canadian dollar", 2),
    currency("CHF", "Swiss franc", 2),
    currency("CLP", "Chilean peso", 0),
    currency("CNY", "Chinese yuan", 2),
    currency("COP", "Colombian peso", 2),
    currency("EGP", "Egyptian pound", 2),
    currency("EUR", "Euro", 2),
    currency("GBP", "Pound sterling", 2),
    currency("HKD", "Hong Kong dollar", 2),
    currency("IDR", "Indonesian rupiah", 2),
    currency("INR", "Indian rupee", 2),
    currency("JOD", "Jordanian dinar", 3),
    currency("JPY", "Japanese yen", 0),
    currency("KES", "Kenyan shilling", 2),
    currency("KRW", "South Korean won", 0),
    currency("KWD", "Kuwaiti dinar", 3),
    currency("LKR", "Sri Lankan rupee", 2),
    currency("MXN", "Mexican peso", 2),
    currency("MYR", "Malaysian ringgit", 2),
    currency("NGN", "Nigerian naira", 2),
    currency("NPR", "Nepalese rupee", 2),
    currency("NZD", "New Zealand dollar", 2),
    currency("OMR", "Omani rial", 3),
    currency("PHP", "Philippine peso", 2),
    currency("PKR", "Pakistani rupee", 2),
    currency("QAR", "Qatari riyal", 2),
    currency("SAR", "Saudi riyal", 2),
    currency("SGD", "Singapore dollar", 2),
    currency("THB", "Thai baht", 2),
    currency("TND", "Tunisian dinar", 3),
    currency("TRY", "Turkish lira", 2),
    currency("USD", "US dollar", 2),
    currency("VND", "Vietnamese dong", 0),
    currency("ZAR", "South African rand", 2),
];

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
                format!("{code} is not a currency we support; choose one from the list.")
            })
    }

    fn scale(self) -> i64 {
        10_i64.pow(u32::from(self.exponent))
    }

    /// Reads an amount such as `1,500.50` into minor units; zero is allowed, negative is not.
    pub fn parse_amount(self, input: &str) -> Result<i64, String> {
        let text: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ',' | ' ' | '_'))
            .collect();
        if text.is_empty() {
            return Err("Enter a fee (0 for free).".into());
        }
        if text.starts_with('-') {
            return Err("A fee cannot be negative.".into());
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !digits_only(whole) || !digits_only(fraction)
        {
            return Err("Enter the fee as a number, like 500 or 499.50.".into());
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
            padded.parse().unwrap_or(0)
        };
        Ok(whole * self.scale() + fraction)
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
            .parse_amount("1.234")
            .unwrap_err()
            .contains("at most 2 decimals"));
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
    fn currency_codes_are_checked() {
        assert_eq!(c(" inr ").code, "INR");
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("").is_err());
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_amount_back(minor in 0_i64..=MAX_MAJOR_UNITS, index in 0..CURRENCIES.len()) {
            let currency = CURRENCIES[index];
            let shown = currency.format_amount(minor);
            prop_assert_eq!(currency.parse_amount(&shown), Ok(minor));
        }
    }
}
