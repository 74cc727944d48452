//! Numbers with full precision that remember the form they arrived in.
//!
//! Terraform numbers are arbitrary-precision decimals. On the wire, integers
//! that fit 64 bits travel as msgpack integers, exact binary floats as
//! float64, and everything else (big integers, most decimals such as `0.1`)
//! as decimal text. Terraform 1.0.0–1.0.10 compare numbers exactly, so a
//! provider must hand a number back in a form with exactly the same value:
//! [`Number`] keeps the form, and encoding writes it back unchanged.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use thiserror::Error;

/// A Terraform number.
///
/// Equality is numeric across forms: `Int(5) == UInt(5)`, and a float equals
/// a decimal only if the decimal text is exactly the float's binary value
/// (`Float(0.5) == "0.5"`, but `Float(0.1) != "0.1"`).
#[derive(Clone, Debug)]
pub enum Number {
    Int(i64),
    /// Only needed above `i64::MAX`; the decoders produce `Int` otherwise.
    UInt(u64),
    /// Any f64 but NaN (which Terraform cannot represent; encoding fails).
    Float(f64),
    /// Decimal text exactly as received, e.g. `"0.1"` or
    /// `"123456789012345678901234567890"`.
    Decimal(Decimal),
}

/// Validated decimal text: an optional sign, digits with an optional
/// fraction, and an optional exponent (`-12.5e3`). Compared as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal(String);

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NumberError {
    #[error("{0:?} is not a decimal number")]
    NotDecimal(String),
    #[error("the exponent of {0:?} is out of range")]
    ExponentRange(String),
    #[error("NaN is not a number Terraform can represent")]
    NaN,
}

/// Decimal exponents beyond this are rejected (Terraform's own big floats
/// overflow well before).
const MAX_EXPONENT: i64 = 1_000_000_000;

/// Input text longer than this is cut in error messages.
const TEXT_IN_MESSAGE: usize = 40;

/// More significant digits than any f64 has in its exact decimal form (767).
const F64_EXACT_DIGITS: usize = 800;

impl Decimal {
    /// Checks `text` and keeps it verbatim.
    pub fn new(text: impl Into<String>) -> Result<Decimal, NumberError> {
        let text = text.into();
        scan(&text)?;
        Ok(Decimal(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    fn parts(&self) -> Parts<'_> {
        // The text was scanned on construction; a failure here would be a bug,
        // so fall back to zero rather than panic.
        scan(&self.0).unwrap_or(Parts::ZERO)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Decimal {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::new(s)
    }
}

impl Number {
    /// A float; `None` for NaN.
    pub fn from_f64(f: f64) -> Option<Number> {
        (!f.is_nan()).then_some(Number::Float(f))
    }

    /// Parses decimal text. Plain integers that fit 64 bits become `Int` or
    /// `UInt`; anything else is kept as `Decimal` text, so no precision is
    /// lost (`"0.1"` stays `"0.1"`, `"1e400"` stays `"1e400"`).
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let parts = scan(text)?;
        if !parts.point && parts.exp_text.is_none() {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Number::Int(i));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Number::UInt(u));
            }
        }
        Ok(Number::Decimal(Decimal(text.to_owned())))
    }

    /// The value as an `i64`, if it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|i| i64::try_from(i).ok())
    }

    /// The value as a `u64`, if it is a whole non-negative number in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|i| u64::try_from(i).ok())
    }

    /// The nearest f64 (possibly rounded); `None` if the value is beyond the
    /// range of f64, like the decimal `1e400`. Infinite floats stay infinite.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::UInt(u) => Some(*u as f64),
            Number::Float(f) => Some(*f),
            Number::Decimal(d) => d.0.parse::<f64>().ok().filter(|f| f.is_finite()),
        }
    }

    /// Whether the value is a whole number.
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) | Number::UInt(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
            Number::Decimal(d) => d.parts().is_integer(),
        }
    }

    /// The value if it is a whole number within i128.
    fn as_i128(&self) -> Option<i128> {
        match self {
            Number::Int(i) => Some(i128::from(*i)),
            Number::UInt(u) => Some(i128::from(*u)),
            Number::Float(f) => float_as_i128(*f),
            Number::Decimal(d) => d.parts().as_i128(),
        }
    }

    /// Exact decimal text of the value; `None` for infinities and NaN.
    fn exact_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Number::Int(i) => Some(Cow::Owned(i.to_string())),
            Number::UInt(u) => Some(Cow::Owned(u.to_string())),
            Number::Float(f) if !f.is_finite() => None,
            Number::Float(f) => Some(Cow::Owned(match float_as_i128(*f) {
                Some(i) => i.to_string(),
                // Rust formats with a given precision exactly, padding with
                // zeros beyond the float's last significant digit.
                None => format!("{:.*e}", F64_EXACT_DIGITS, f),
            })),
            Number::Decimal(d) => Some(Cow::Borrowed(d.as_str())),
        }
    }

    /// The number as JSON number text with exactly its value: integers as
    /// they are, decimals verbatim when the text is valid JSON, and floats
    /// as their exact decimal expansion. `None` for infinities and NaN.
    pub(crate) fn json_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Number::Decimal(d) => {
                let parts = d.parts();
                Some(if parts.is_json() {
                    Cow::Borrowed(d.as_str())
                } else {
                    Cow::Owned(parts.render())
                })
            }
            Number::Float(f) if float_as_i128(*f).is_none() => {
                let text = self.exact_text()?;
                Some(Cow::Owned(scan(&text).ok()?.render()))
            }
            _ => self.exact_text(),
        }
    }
}

fn float_as_i128(f: f64) -> Option<i128> {
    // 2^127 as f64; every integral f64 below it in magnitude converts exactly.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    (f.is_finite() && f.fract() == 0.0 && f.abs() < LIMIT).then_some(f as i128)
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        use Number::*;
        match (self, other) {
            (Int(_) | UInt(_), Int(_) | UInt(_)) => self.as_i128() == other.as_i128(),
            (Float(a), Float(b)) => a == b,
            (Int(_) | UInt(_), Float(f)) | (Float(f), Int(_) | UInt(_)) => {
                let int = if let Float(_) = self { other } else { self };
                float_as_i128(*f).is_some() && float_as_i128(*f) == int.as_i128()
            }
            (Decimal(a), Decimal(b)) if a.0 == b.0 => true,
            _ => match (self.exact_text(), other.exact_text()) {
                (Some(a), Some(b)) => match (scan(&a), scan(&b)) {
                    (Ok(a), Ok(b)) => a.same_value(b),
                    _ => false,
                },
                _ => false,
            },
        }
    }
}

/// Agrees with `==`: equal numbers have the same nearest f64.
impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.as_f64() {
            // Matches -0.0 too, which equals 0.0 and must hash alike.
            Some(0.0) => 0u64.hash(state),
            Some(f) => f.to_bits().hash(state),
            None => u64::MAX.hash(state),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number::Int(i)
    }
}

impl From<i32> for Number {
    fn from(i: i32) -> Self {
        Number::Int(i64::from(i))
    }
}

impl From<u32> for Number {
    fn from(u: u32) -> Self {
        Number::Int(i64::from(u))
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Self {
        match i64::try_from(u) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::UInt(u),
        }
    }
}

impl From<Decimal> for Number {
    fn from(d: Decimal) -> Self {
        Number::Decimal(d)
    }
}

impl TryFrom<f64> for Number {
    type Error = NumberError;
    fn try_from(f: f64) -> Result<Self, Self::Error> {
        Number::from_f64(f).ok_or(NumberError::NaN)
    }
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

/// Integers and decimals as written; floats in their shortest round-trip
/// form (`0.1`, `1e300`), which may differ from their exact value.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::UInt(u) => write!(f, "{u}"),
            Number::Decimal(d) => f.write_str(d.as_str()),
            Number::Float(x) if !x.is_finite() => write!(f, "{x}"),
            Number::Float(x) => {
                let shortest = format!("{x:e}");
                match scan(&shortest) {
                    Ok(parts) => f.write_str(&parts.render()),
                    Err(_) => f.write_str(&shortest),
                }
            }
        }
    }
}

/// Decimal text taken apart: `[sign] int [. frac] [e exp]`.
#[derive(Clone, Copy, Debug)]
struct Parts<'a> {
    negative: bool,
    plus_sign: bool,
    int: &'a str,
    point: bool,
    frac: &'a str,
    exp_text: Option<&'a str>,
    exp: i64,
}

impl<'a> Parts<'a> {
    const ZERO: Parts<'static> = Parts {
        negative: false,
        plus_sign: false,
        int: "0",
        point: false,
        frac: "",
        exp_text: None,
        exp: 0,
    };

    /// All mantissa digits, integer part then fraction.
    fn digits(self) -> impl Iterator<Item = u8> + Clone + 'a {
        self.int.bytes().chain(self.frac.bytes())
    }

    /// The value as `0.D × 10^exponent`, `D` being the significant digits.
    fn normalized(self) -> Normalized {
        let total = self.int.len() + self.frac.len();
        let leading = self.digits().take_while(|&b| b == b'0').count();
        if leading == total {
            return Normalized {
                leading: 0,
                count: 0,
                exponent: 0,
            };
        }
        let trailing = self
            .frac
            .bytes()
            .rev()
            .chain(self.int.bytes().rev())
            .take_while(|&b| b == b'0')
            .count();
        // Lengths of in-memory strings are far below i64::MAX and
        // |exp| <= MAX_EXPONENT, so this cannot overflow.
        let exponent = len_i64(self.int.len()) - len_i64(leading) + self.exp;
        Normalized {
            leading,
            count: total - leading - trailing,
            exponent,
        }
    }

    fn significant(self, n: Normalized) -> impl Iterator<Item = u8> + 'a {
        self.digits().skip(n.leading).take(n.count)
    }

    fn same_value(self, other: Parts<'_>) -> bool {
        let (a, b) = (self.normalized(), other.normalized());
        if a.count == 0 || b.count == 0 {
            return a.count == b.count;
        }
        self.negative == other.negative
            && a.exponent == b.exponent
            && a.count == b.count
            && self.significant(a).eq(other.significant(b))
    }

    fn is_integer(self) -> bool {
        let n = self.normalized();
        n.count == 0 || n.exponent >= len_i64(n.count)
    }

    fn as_i128(self) -> Option<i128> {
        let n = self.normalized();
        if n.count == 0 {
            return Some(0);
        }
        // Whole numbers of up to 38 digits; i128 holds them all.
        if n.exponent < len_i64(n.count) || n.exponent > 38 {
            return None;
        }
        let mut value: i128 = 0;
        for digit in self.significant(n) {
            value = value * 10 + i128::from(digit - b'0');
        }
        for _ in len_i64(n.count)..n.exponent {
            value *= 10;
        }
        Some(if self.negative { -value } else { value })
    }

    /// Whether the text is also valid JSON number syntax.
    fn is_json(self) -> bool {
        !self.plus_sign
            && !self.int.is_empty()
            && (self.int == "0" || !self.int.starts_with('0'))
            && (!self.point || !self.frac.is_empty())
    }

    /// The value as JSON number text: positional for moderate exponents,
    /// scientific otherwise, with no superfluous zeros.
    fn render(self) -> String {
        let n = self.normalized();
        if n.count == 0 {
            return "0".to_owned();
        }
        let digits: String = self.significant(n).map(char::from).collect();
        let mut out = String::with_capacity(n.count + 24);
        if self.negative {
            out.push('-');
        }
        match usize::try_from(n.exponent) {
            // 1 to 21 digits before the point: positional.
            Ok(int_len @ 1..=21) => {
                if int_len >= n.count {
                    out.push_str(&digits);
                    out.extend(std::iter::repeat_n('0', int_len - n.count));
                } else {
                    let (int, frac) = digits.split_at_checked(int_len).unwrap_or((&digits, ""));
                    out.push_str(int);
                    out.push('.');
                    out.push_str(frac);
                }
            }
            // Up to 5 zeros after the point: positional.
            _ if (-5..=0).contains(&n.exponent) => {
                out.push_str("0.");
                for _ in n.exponent..0 {
                    out.push('0');
                }
                out.push_str(&digits);
            }
            _ => {
                let mut chars = digits.chars();
                out.extend(chars.next());
                let rest = chars.as_str();
                if !rest.is_empty() {
                    out.push('.');
                    out.push_str(rest);
                }
                out.push('e');
                out.push_str(&(n.exponent - 1).to_string());
            }
        }
        out
    }
}

/// A decimal as `0.D × 10^exponent`: `D` is `count` digits after skipping
/// `leading` zeros. Zero has no significant digits.
#[derive(Clone, Copy, Debug)]
struct Normalized {
    leading: usize,
    count: usize,
    exponent: i64,
}

fn len_i64(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

fn not_decimal(text: &str) -> NumberError {
    NumberError::NotDecimal(text.chars().take(TEXT_IN_MESSAGE).collect())
}

fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, ""))
}

/// Checks decimal text and takes it apart without allocating.
fn scan(text: &str) -> Result<Parts<'_>, NumberError> {
    let (negative, plus_sign, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, false, text.get(1..).unwrap_or("")),
        Some(b'+') => (false, true, text.get(1..).unwrap_or("")),
        _ => (false, false, text),
    };
    let (int, rest) = split_digits(rest);
    let (point, frac, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let (frac, rest) = split_digits(after);
            (true, frac, rest)
        }
        None => (false, "", rest),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(not_decimal(text));
    }
    let (exp_text, exp) = match rest.strip_prefix(['e', 'E']) {
        None if rest.is_empty() => (None, 0),
        None => return Err(not_decimal(text)),
        Some(exp_text) => {
            let (exp_negative, digits) = match exp_text.as_bytes().first() {
                Some(b'-') => (true, exp_text.get(1..).unwrap_or("")),
                Some(b'+') => (false, exp_text.get(1..).unwrap_or("")),
                _ => (false, exp_text),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_decimal(text));
            }
            let mut exp: i64 = 0;
            for b in digits.bytes() {
                exp = exp * 10 + i64::from(b - b'0');
                if exp > MAX_EXPONENT {
                    return Err(NumberError::ExponentRange(
                        text.chars().take(TEXT_IN_MESSAGE).collect(),
                    ));
                }
            }
            (Some(exp_text), if exp_negative { -exp } else { exp })
        }
    };
    Ok(Parts {
        negative: negative && !is_all_zero(int, frac),
        plus_sign,
        int,
        point,
        frac,
        exp_text,
        exp,
    })
}

fn is_all_zero(int: &str, frac: &str) -> bool {
    int.bytes().chain(frac.bytes()).all(|b| b == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Number {
        match Decimal::new(s) {
            Ok(d) => Number::Decimal(d),
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn decimal_text_is_validated() {
        for ok in [
            "0", "-0", "+7", "12", "1.5", ".5", "5.", "-0.001", "1e400", "1E-400", "2.5e+3", "007",
            "1e0009",
        ] {
            assert!(Decimal::new(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1e5.5", "abc", "1a", "0x10", "inf",
            "NaN", " 1", "1 ", "--1", "1_000", "١",
        ] {
            assert!(
                matches!(Decimal::new(bad), Err(NumberError::NotDecimal(_))),
                "{bad:?} should be rejected"
            );
        }
        assert!(matches!(
            Decimal::new("1e99999999999999999999"),
            Err(NumberError::ExponentRange(_))
        ));
    }

    #[test]
    fn parse_keeps_integers_as_integers_and_the_rest_as_text() {
        assert!(matches!(Number::parse("42"), Ok(Number::Int(42))));
        assert!(matches!(
            Number::parse("-9223372036854775808"),
            Ok(Number::Int(i64::MIN))
        ));
        assert!(matches!(
            Number::parse("18446744073709551615"),
            Ok(Number::UInt(u64::MAX))
        ));
        let big = "18446744073709551616";
        assert!(matches!(Number::parse(big), Ok(Number::Decimal(d)) if d.as_str() == big));
        assert!(matches!(Number::parse("0.1"), Ok(Number::Decimal(d)) if d.as_str() == "0.1"));
    }

    #[test]
    fn equality_is_numeric_across_forms() {
        assert_eq!(Number::Int(5), Number::UInt(5));
        assert_eq!(Number::Int(5), Number::Float(5.0));
        assert_eq!(Number::UInt(u64::MAX), dec("18446744073709551615"));
        assert_eq!(Number::Int(1000), dec("1e3"));
        assert_eq!(dec("1.50"), dec("0015e-1"));
        assert_eq!(dec("0"), dec("-0.000e7"));
        assert_eq!(Number::Float(0.5), dec("0.5"));
        assert_eq!(Number::Float(-0.0), Number::Int(0));
        assert_eq!(Number::Float(f64::INFINITY), Number::Float(f64::INFINITY));
        assert_ne!(Number::Float(0.1), dec("0.1"));
        assert_eq!(
            Number::Float(0.1),
            dec("0.1000000000000000055511151231257827021181583404541015625")
        );
        assert_ne!(Number::Int(-5), Number::UInt(5));
        assert_ne!(Number::Float(0.5), Number::Int(0));
        assert_ne!(dec("1e400"), Number::Float(f64::INFINITY));
        assert_ne!(dec("1.5"), dec("-1.5"));
        assert_ne!(dec("1.5"), dec("15"));
    }

    #[test]
    fn integer_accessors_accept_whole_numbers_in_range() {
        assert_eq!(Number::Int(-3).as_i64(), Some(-3));
        assert_eq!(Number::Int(-3).as_u64(), None);
        assert_eq!(Number::UInt(u64::MAX).as_i64(), None);
        assert_eq!(Number::UInt(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Number::Float(128.0).as_i64(), Some(128));
        assert_eq!(Number::Float(128.5).as_i64(), None);
        assert_eq!(dec("1.28e2").as_i64(), Some(128));
        assert_eq!(dec("-12.000").as_i64(), Some(-12));
        assert_eq!(dec("12.5").as_i64(), None);
        assert_eq!(dec("1e30").as_i64(), None);
        assert_eq!(dec("1e400").as_i64(), None);
        assert!(dec("1e400").is_integer());
        assert!(!dec("1e-400").is_integer());
    }

    #[test]
    fn as_f64_rounds_and_reports_overflow() {
        assert_eq!(dec("0.1").as_f64(), Some(0.1));
        assert_eq!(Number::Int(7).as_f64(), Some(7.0));
        assert_eq!(dec("1e400").as_f64(), None);
        assert_eq!(
            Number::Float(f64::NEG_INFINITY).as_f64(),
            Some(f64::NEG_INFINITY)
        );
    }

    #[test]
    fn json_text_is_valid_json_with_the_exact_value() {
        let cases: [(Number, &str); 10] = [
            (Number::Int(-12), "-12"),
            (Number::UInt(u64::MAX), "18446744073709551615"),
            (Number::Float(0.5), "0.5"),
            (Number::Float(2f64.powi(-20)), "9.5367431640625e-7"),
            (Number::Float(3.0), "3"),
            (
                Number::Float(0.1),
                "0.1000000000000000055511151231257827021181583404541015625",
            ),
            (dec("1e400"), "1e400"),
            (dec("+007.50"), "7.5"),
            (dec(".5e-10"), "5e-11"),
            (dec("5."), "5"),
        ];
        for (number, text) in cases {
            assert_eq!(number.json_text().as_deref(), Some(text), "{number:?}");
            let back = Number::parse(text);
            assert!(matches!(&back, Ok(n) if *n == number), "{text} -> {back:?}");
        }
        assert_eq!(Number::Float(f64::NAN).json_text(), None);
        assert_eq!(Number::Float(f64::INFINITY).json_text(), None);
    }

    #[test]
    fn floats_are_written_with_every_digit_of_their_binary_value() {
        let text = Number::Float(1e300)
            .json_text()
            .map(Cow::into_owned)
            .unwrap_or_default();
        assert!(
            text.starts_with("1.00000000000000005250476025520442"),
            "{text}"
        );
        assert!(text.ends_with("e300"), "{text}");
        assert_ne!(Number::Float(1e300), dec("1e300"));
    }

    #[test]
    fn the_smallest_float_has_an_exact_text_form() {
        let tiny = Number::Float(f64::from_bits(1));
        let text = tiny.json_text().map(Cow::into_owned).unwrap_or_default();
        assert!(text.ends_with("e-324"), "{text}");
        assert!(matches!(Number::parse(&text), Ok(n) if n == tiny));
        assert_ne!(tiny, Number::Int(0));
    }

    #[test]
    fn display_is_short() {
        assert_eq!(Number::Float(0.1).to_string(), "0.1");
        assert_eq!(Number::Float(1e300).to_string(), "1e300");
        assert_eq!(Number::Float(-2.0).to_string(), "-2");
        assert_eq!(dec("1.50").to_string(), "1.50");
    }
}
