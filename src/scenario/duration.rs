//! Durations in scenario files: parsing, validation and canonical formatting.
//!
//! This module owns the one textual form of a span of simulated time that users write in
//! scenarios, [`DurationSpec`], so that every duration field accepts the same syntax and
//! reports the same errors. Accepted forms:
//!
//! - Go-style duration strings (as `time.ParseDuration`): one or more `<number><unit>`
//!   components, e.g. `1h30m`, `10s`, `500ms`, `1.5s`, `2m`, `.5h`. Units are `ns`, `us`,
//!   `µs` / `μs`, `ms`, `s`, `m`, `h`, and — as an extension that Go does not have — `d`
//!   for days of exactly 24 hours. `0` alone is allowed, as in Go, and a leading `+` is
//!   accepted.
//! - A bare number of seconds, either as a YAML/JSON number (`300`, `1.5`) or as a string
//!   (`"300"`, `"0.25"`).
//!
//! Negative, empty, non-finite and out-of-range values (more than `u64::MAX` nanoseconds,
//! about 584 years) are rejected with a message that says what was expected.
//!
//! Arithmetic is exact decimal: `0.1s` is exactly 100,000,000 ns. Digits finer than a
//! nanosecond are rounded to the nearest nanosecond (halves round up). Numbers given as
//! YAML/JSON floats are read back through their shortest decimal representation, so the
//! float `0.1` means the same as the string `"0.1"`.
//!
//! [`DurationSpec`] serializes to a canonical string that parses back to the same number
//! of nanoseconds: whole hours as `<n>h`, whole minutes as `<n>m`, anything else as
//! decimal seconds with the trailing zeros removed (`90s`, `0.5s`, `0.000000001s`).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::SimDuration;

const NANOS_PER_SEC: u64 = 1_000_000_000;
const NANOS_PER_MIN: u64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MIN;
const NANOS_PER_DAY: u64 = 24 * NANOS_PER_HOUR;

const EXPECTED: &str = "expected a number of seconds or a Go-style duration such as 1h30m, 10s, 500ms";

/// A non-negative span of simulated time as written in a scenario file.
///
/// Deserializes from a Go-style duration string or a number of seconds (see the module
/// documentation); serializes to a canonical string that reparses to the same value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DurationSpec(pub SimDuration);

impl DurationSpec {
    /// The wrapped simulated duration.
    pub fn get(self) -> SimDuration {
        self.0
    }

    /// Length in seconds, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl From<SimDuration> for DurationSpec {
    fn from(d: SimDuration) -> Self {
        DurationSpec(d)
    }
}

impl From<DurationSpec> for SimDuration {
    fn from(d: DurationSpec) -> Self {
        d.0
    }
}

impl FromStr for DurationSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration(s).map(DurationSpec)
    }
}

/// Canonical form: `<n>h` for whole hours, `<n>m` for whole minutes, otherwise decimal
/// seconds without trailing zeros (`0s` for zero).
impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// Formats `d` in the canonical form described on [`DurationSpec`]'s `Display`.
pub fn format_duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns.is_multiple_of(NANOS_PER_HOUR) {
        return format!("{}h", ns / NANOS_PER_HOUR);
    }
    if ns.is_multiple_of(NANOS_PER_MIN) {
        return format!("{}m", ns / NANOS_PER_MIN);
    }
    let secs = ns / NANOS_PER_SEC;
    let frac = ns % NANOS_PER_SEC;
    if frac == 0 {
        return format!("{secs}s");
    }
    let digits = format!("{frac:09}");
    format!("{secs}.{}s", digits.trim_end_matches('0'))
}

fn err_expected(s: &str, detail: &str) -> String {
    if detail.is_empty() {
        format!("invalid duration {s:?}: {EXPECTED}")
    } else {
        format!("invalid duration {s:?}: {EXPECTED} ({detail})")
    }
}

fn err_too_large(s: &str) -> String {
    format!("invalid duration {s:?}: too large (the maximum is {} ns, about 584 years)", u64::MAX)
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SEC,
        "m" => NANOS_PER_MIN,
        "h" => NANOS_PER_HOUR,
        "d" => NANOS_PER_DAY,
        _ => return None,
    })
}

/// A decimal number split at its point: `int` and `frac` are ASCII digit strings, at least
/// one of them non-empty.
struct Decimal<'a> {
    int: &'a str,
    frac: &'a str,
}

/// Reads `[0-9]*(\.[0-9]*)?` from the start of `s`; returns the number and the rest, or
/// `None` if no digit was found.
fn take_decimal(s: &str) -> Option<(Decimal<'_>, &str)> {
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    let (int, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            after.split_at(n)
        }
        None => ("", rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    Some((Decimal { int, frac }, rest))
}

/// `value * unit` in nanoseconds, exact, rounded to the nearest nanosecond (halves up).
/// `None` on overflow of `u64`.
fn scale_decimal(d: &Decimal<'_>, unit: u64) -> Option<u64> {
    let mut int: u128 = 0;
    for b in d.int.bytes() {
        int = int.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        if int > u128::from(u64::MAX) {
            return None;
        }
    }
    let whole = int.checked_mul(u128::from(unit))?;
    // Multiply the fraction 0.f1f2...fk by `unit` with schoolbook long multiplication from
    // the last digit: the final carry is the integer part of the product and `first` is
    // the first decimal digit of what remains, which decides the rounding.
    let mut carry: u128 = 0;
    let mut first: u128 = 0;
    for b in d.frac.bytes().rev() {
        let p = u128::from(b - b'0') * u128::from(unit) + carry;
        first = p % 10;
        carry = p / 10;
    }
    let total = whole.checked_add(carry)?.checked_add(u128::from(first >= 5))?;
    u64::try_from(total).ok()
}

/// Parses a duration: a Go-style string (`1h30m`, `10s`, `500ms`, `1.5s`, `250us`, `1d`)
/// or a bare number of seconds (`300`, `0.5`). See the module documentation for details.
pub fn parse_duration(s: &str) -> Result<SimDuration, String> {
    let body = s.trim();
    if body.is_empty() {
        return Err(err_expected(s, "the value is empty"));
    }
    if body.starts_with('-') {
        return Err(format!("invalid duration {s:?}: must not be negative"));
    }
    let body = body.strip_prefix('+').unwrap_or(body);

    // A bare number means seconds.
    if let Some((num, "")) = take_decimal(body) {
        return scale_decimal(&num, NANOS_PER_SEC).map(SimDuration).ok_or_else(|| err_too_large(s));
    }

    let mut rest = body;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let Some((num, after)) = take_decimal(rest) else {
            return Err(err_expected(s, &format!("expected a number at {rest:?}")));
        };
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if after.starts_with('.') && unit.is_empty() {
            return Err(err_expected(s, "a number has more than one decimal point"));
        }
        if unit.is_empty() {
            return Err(err_expected(s, "every number in a multi-part duration needs a unit"));
        }
        let Some(unit_ns) = unit_nanos(unit) else {
            return Err(err_expected(s, &format!("unknown unit {unit:?}; units are ns, us, ms, s, m, h, d")));
        };
        let part = scale_decimal(&num, unit_ns).ok_or_else(|| err_too_large(s))?;
        total = total.checked_add(part).ok_or_else(|| err_too_large(s))?;
        rest = after;
    }
    Ok(SimDuration(total))
}

/// Converts a number of seconds given as a YAML/JSON float.
fn duration_from_f64(v: f64) -> Result<SimDuration, String> {
    if !v.is_finite() {
        return Err(format!("invalid duration {v}: expected a finite, non-negative number of seconds"));
    }
    if v < 0.0 {
        return Err(format!("invalid duration {v}: must not be negative"));
    }
    // `Display` for f64 is the shortest decimal that reads back to the same float and never
    // uses exponent notation, so this parses exactly what the user wrote.
    parse_duration(&v.to_string())
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(self.0))
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = DurationSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds or a Go-style duration string such as 1h30m, 10s, 500ms")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationSpec, E> {
        parse_duration(v).map(DurationSpec).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationSpec, E> {
        v.checked_mul(NANOS_PER_SEC)
            .map(|ns| DurationSpec(SimDuration(ns)))
            .ok_or_else(|| E::custom(err_too_large(&v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationSpec, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom(format!("invalid duration {v}: must not be negative"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationSpec, E> {
        duration_from_f64(v).map(DurationSpec).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ns(s: &str) -> u64 {
        match parse_duration(s) {
            Ok(d) => d.as_nanos(),
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match parse_duration(s) {
            Ok(d) => panic!("{s:?} should be rejected, got {d:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_table() {
        let s = NANOS_PER_SEC;
        let table: &[(&str, u64)] = &[
            ("1h30m", 5_400 * s),
            ("10s", 10 * s),
            ("500ms", 500_000_000),
            ("250us", 250_000),
            ("250µs", 250_000),
            ("250μs", 250_000),
            ("100ns", 100),
            ("1.5s", 1_500_000_000),
            ("2m", 120 * s),
            ("1d", 86_400 * s),
            ("1d12h", 129_600 * s),
            ("300", 300 * s),
            ("0.25", 250_000_000),
            ("0", 0),
            ("0s", 0),
            ("+5s", 5 * s),
            (".5h", 1_800 * s),
            ("5.s", 5 * s),
            ("1h1m1s1ms1us1ns", 3_661 * s + 1_001_001),
            ("0.1s", 100_000_000),
            ("1.0000000004s", s),
            ("1.0000000005s", s + 1),
            ("0.5ns", 1),
            ("0.0000000000000000000000000001d", 0),
            ("2.5m", 150 * s),
            ("  10s ", 10 * s),
            ("18446744073.709551615", u64::MAX),
            ("18446744073709551615ns", u64::MAX),
            ("000001s", s),
        ];
        for (input, want) in table {
            assert_eq!(ns(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn rejects_with_explanations() {
        assert_eq!(
            err("5x"),
            "invalid duration \"5x\": expected a number of seconds or a Go-style duration such as \
             1h30m, 10s, 500ms (unknown unit \"x\"; units are ns, us, ms, s, m, h, d)"
        );
        assert_eq!(
            err(""),
            "invalid duration \"\": expected a number of seconds or a Go-style duration such as \
             1h30m, 10s, 500ms (the value is empty)"
        );
        assert_eq!(err("-5s"), "invalid duration \"-5s\": must not be negative");
        assert_eq!(err("-0.5"), "invalid duration \"-0.5\": must not be negative");
        assert_eq!(
            err("18446744073.709551616"),
            "invalid duration \"18446744073.709551616\": too large (the maximum is \
             18446744073709551615 ns, about 584 years)"
        );
        assert!(err("99999999999999999999999999999h").contains("too large"));
        assert!(err("300000d").contains("too large"));
        assert!(err("18446744073709551615ns1ns").contains("too large"));
        assert!(err("1h30").contains("every number in a multi-part duration needs a unit"));
        assert!(err("s").contains("expected a number at \"s\""));
        assert!(err(".s").contains("expected a number"));
        assert!(err("1.5.3s").ends_with("(a number has more than one decimal point)"));
        assert!(err("1.5.3").ends_with("(a number has more than one decimal point)"));
        assert!(err("1 h").contains("unknown unit \" h\""));
        assert!(err("1S").contains("unknown unit \"S\""));
        assert!(err("abc").contains(EXPECTED));
        assert!(err("1e3s").contains("unknown unit \"e\""));
    }

    #[test]
    fn canonical_format() {
        let table: &[(u64, &str)] = &[
            (0, "0s"),
            (90 * NANOS_PER_SEC, "90s"),
            (500_000_000, "0.5s"),
            (NANOS_PER_HOUR, "1h"),
            (NANOS_PER_DAY, "24h"),
            (5_400 * NANOS_PER_SEC, "90m"),
            (1, "0.000000001s"),
            (1_500_000_000, "1.5s"),
            (3_601 * NANOS_PER_SEC, "3601s"),
            (u64::MAX, "18446744073.709551615s"),
        ];
        for (n, want) in table {
            assert_eq!(DurationSpec(SimDuration(*n)).to_string(), *want);
            assert_eq!(ns(want), *n);
        }
    }

    #[test]
    fn serde_yaml_and_json() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Doc {
            a: DurationSpec,
            b: DurationSpec,
            c: DurationSpec,
            d: DurationSpec,
        }
        let doc: Doc = serde_saphyr::from_str("a: 1h30m\nb: 300\nc: 1.5\nd: \"0.25\"\n").unwrap();
        assert_eq!(doc.a.0, SimDuration::from_secs(5_400));
        assert_eq!(doc.b.0, SimDuration::from_secs(300));
        assert_eq!(doc.c.0, SimDuration::from_millis(1_500));
        assert_eq!(doc.d.0, SimDuration::from_millis(250));

        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(json, r#"{"a":"90m","b":"5m","c":"1.5s","d":"0.25s"}"#);
        assert_eq!(serde_json::from_str::<Doc>(&json).unwrap(), doc);

        let yaml = serde_saphyr::to_string(&doc).unwrap();
        assert_eq!(serde_saphyr::from_str::<Doc>(&yaml).unwrap(), doc);

        let tenth: DurationSpec = serde_json::from_str("0.1").unwrap();
        assert_eq!(tenth.0, SimDuration(100_000_000));
    }

    #[test]
    fn serde_errors() {
        let e = serde_json::from_str::<DurationSpec>("-3").unwrap_err().to_string();
        assert!(e.contains("invalid duration -3: must not be negative"), "{e}");
        let e = serde_json::from_str::<DurationSpec>("-0.5").unwrap_err().to_string();
        assert!(e.contains("invalid duration -0.5: must not be negative"), "{e}");
        let e = serde_json::from_str::<DurationSpec>("18446744074").unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
        let e = serde_saphyr::from_str::<DurationSpec>("5x").unwrap_err().to_string();
        assert!(e.contains("invalid duration \"5x\": expected a number of seconds"), "{e}");
        // serde-saphyr itself rejects non-finite floats for self-describing targets by
        // default; other formats reach our own check.
        let e = serde_saphyr::from_str::<DurationSpec>(".nan").unwrap_err().to_string();
        assert!(e.contains("non-finite float"), "{e}");
        let e = duration_from_f64(f64::INFINITY).unwrap_err();
        assert_eq!(e, "invalid duration inf: expected a finite, non-negative number of seconds");
        let e = serde_json::from_str::<DurationSpec>("true").unwrap_err().to_string();
        assert!(e.contains("a number of seconds or a Go-style duration string"), "{e}");
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(n in any::<u64>()) {
            let d = DurationSpec(SimDuration(n));
            prop_assert_eq!(parse_duration(&d.to_string()), Ok(SimDuration(n)));
            let json = serde_json::to_string(&d).unwrap();
            prop_assert_eq!(serde_json::from_str::<DurationSpec>(&json).unwrap(), d);
        }

        #[test]
        fn small_values_roundtrip_through_every_unit(n in 0u64..100_000, unit in 0usize..7) {
            let (name, scale) = [
                ("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", NANOS_PER_SEC),
                ("m", NANOS_PER_MIN), ("h", NANOS_PER_HOUR), ("d", NANOS_PER_DAY),
            ][unit];
            let d = parse_duration(&format!("{n}{name}")).unwrap();
            prop_assert_eq!(d, SimDuration(n * scale));
            prop_assert_eq!(parse_duration(&DurationSpec(d).to_string()), Ok(d));
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }
    }
}
