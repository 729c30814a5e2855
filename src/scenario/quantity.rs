//! Kubernetes resource quantities (`500m`, `2Gi`, `1e3`) in scenario files.
//!
//! This module owns the quantity syntax of `k8s.io/apimachinery/pkg/api/resource`
//! (`quantity.go`) so that node capacities and pod requests can be written exactly as in
//! Kubernetes manifests, and the typed wrappers that scenario fields use:
//! [`CpuQuantity`] (millicores), [`MemQuantity`] (bytes) and [`CountQuantity`] (plain
//! counts such as GPUs or pods).
//!
//! Syntax: an optional sign, a decimal number (`1`, `1.5`, `.5`, `1.`), then an optional
//! suffix, one of
//! - decimal SI: `n` (1e-9), `u` (1e-6), `m` (1e-3), `k`, `M`, `G`, `T`, `P`, `E` (1e18);
//! - binary SI: `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei` (2^10 … 2^60);
//! - a decimal exponent: `e3`, `E-2`, … (note that a bare `E` is exa, as upstream).
//!
//! Surrounding whitespace is ignored. Arithmetic is exact (no floating point). Results are
//! rounded up toward positive infinity, like upstream's `Value()` and `MilliValue()` for
//! non-negative quantities, so `0.5m` is 1 millicore and `0.5` is 1 byte. Values that do
//! not fit in an `i64` are an error rather than wrapping or saturating.
//!
//! The wrappers reject negative values and deserialize from either a string or a YAML/JSON
//! number (a float is read through its shortest decimal representation, so `0.1` is
//! exactly 100 millicores). They serialize to a canonical string that parses back to the
//! same value.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const EXPECTED: &str = "expected a number with an optional suffix (m, k, M, G, T, Ki, Mi, Gi, Ti, ...)";

fn err_syntax(s: &str) -> String {
    format!("invalid quantity {s:?}: {EXPECTED}")
}

fn err_too_large(s: &str) -> String {
    format!("invalid quantity {s:?}: too large (the value must fit in a signed 64-bit integer)")
}

fn err_negative(s: &str) -> String {
    format!("invalid quantity {s:?}: must not be negative")
}

/// The multiplier a suffix stands for: `10^pow10 * 2^pow2`.
struct Suffix {
    pow10: i64,
    pow2: u32,
}

fn parse_suffix(suffix: &str) -> Option<Suffix> {
    let dec = |pow10| Some(Suffix { pow10, pow2: 0 });
    let bin = |pow2| Some(Suffix { pow10: 0, pow2 });
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ => {
            // Decimal exponent: e|E, optional sign, at least one digit.
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let (negative, digits) = match rest.as_bytes().first() {
                Some(b'-') => (true, &rest[1..]),
                Some(b'+') => (false, &rest[1..]),
                _ => (false, rest),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Saturate: any exponent this large already over- or underflows an i64.
            let mut exp: i64 = 0;
            for b in digits.bytes() {
                exp = (exp * 10 + i64::from(b - b'0')).min(1_000_000_000);
            }
            dec(if negative { -exp } else { exp })
        }
    }
}

/// A parsed quantity scaled by `10^scale` and rounded up.
struct Scaled {
    /// The scaled value rounded toward positive infinity.
    value: i64,
    /// Whether rounding changed the value (the scaled value was not an integer).
    exact: bool,
    /// A minus sign was given and the unrounded value is not zero.
    negative: bool,
}

/// Parses `s` and returns `ceil(quantity * 10^scale)`.
fn parse_scaled(s: &str, scale: i64) -> Result<Scaled, String> {
    let body = s.trim();
    let (minus, unsigned) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let int_len = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let (int, rest) = unsigned.split_at(int_len);
    let (frac, suffix) = match rest.strip_prefix('.') {
        Some(after) => after.split_at(after.bytes().take_while(u8::is_ascii_digit).count()),
        None => ("", rest),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(err_syntax(s));
    }
    let Suffix { pow10, pow2 } = parse_suffix(suffix).ok_or_else(|| err_syntax(s))?;

    // The value is 0.d1d2...dk * 10^point * 2^pow2 with d1 != 0.
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let lead = all.iter().take_while(|&&d| d == 0).count();
    let trail = all[lead..].iter().rev().take_while(|&&d| d == 0).count();
    let digits = &all[lead..all.len() - trail];
    if digits.is_empty() {
        return Ok(Scaled { value: 0, exact: true, negative: false });
    }
    let point = (int.len() as i64 - lead as i64).saturating_add(pow10).saturating_add(scale);
    let k = digits.len() as i64;
    let mult: u128 = 1u128 << pow2;

    // Split into an integer part and a fraction 0.f1f2... (with leading zeros if point < 0).
    let (int_digits, frac_digits, frac_zeros): (&[u8], &[u8], usize) = if point >= k {
        (digits, &[], 0)
    } else if point > 0 {
        (&digits[..point as usize], &digits[point as usize..], 0)
    } else {
        (&[], digits, point.unsigned_abs().min(64) as usize)
    };

    // Integer part, times 10^(point - k) when the digits end before the point.
    let overflow = || err_too_large(s);
    let mut magnitude: u128 = 0;
    for &d in int_digits {
        magnitude =
            magnitude.checked_mul(10).and_then(|m| m.checked_add(u128::from(d))).ok_or_else(overflow)?;
    }
    if point > k {
        let zeros = u32::try_from(point - k).map_err(|_| overflow())?;
        let p = 10u128.checked_pow(zeros).ok_or_else(overflow)?;
        magnitude = magnitude.checked_mul(p).ok_or_else(overflow)?;
    }
    magnitude = magnitude.checked_mul(mult).ok_or_else(overflow)?;

    // Fraction times 2^pow2 by long multiplication from the last digit: the final carry is
    // the integer part of the product, `rem` whether anything is left below it. A fraction
    // below 10^-20 times at most 2^60 is below 1, so more leading zeros change nothing.
    let mut carry: u128 = 0;
    let mut rem = false;
    if point < -20 {
        rem = true;
    } else {
        for &d in frac_digits.iter().rev().chain(std::iter::repeat_n(&0u8, frac_zeros)) {
            let p = u128::from(d) * mult + carry;
            rem |= !p.is_multiple_of(10);
            carry = p / 10;
        }
    }
    magnitude = magnitude.checked_add(carry).ok_or_else(overflow)?;

    let value = if minus {
        // ceil(-x) = -floor(x)
        0i64.checked_sub_unsigned(u64::try_from(magnitude).map_err(|_| overflow())?).ok_or_else(overflow)?
    } else {
        let up = magnitude.checked_add(u128::from(rem)).ok_or_else(overflow)?;
        i64::try_from(up).map_err(|_| overflow())?
    };
    Ok(Scaled { value, exact: !rem, negative: minus })
}

/// Parses a quantity and returns its value times 1000, rounded up (toward positive
/// infinity), like upstream's `MilliValue()`: `"500m"` → 500, `"2"` → 2000, `"0.5m"` → 1.
pub fn parse_milli(s: &str) -> Result<i64, String> {
    parse_scaled(s, 3).map(|q| q.value)
}

/// Parses a quantity and returns its value rounded up (toward positive infinity) to an
/// integer, like upstream's `Value()`: `"2Gi"` → 2147483648, `"1k"` → 1000, `"0.5"` → 1.
pub fn parse_value(s: &str) -> Result<i64, String> {
    parse_scaled(s, 0).map(|q| q.value)
}

fn parse_non_negative(s: &str, scale: i64) -> Result<Scaled, String> {
    let q = parse_scaled(s, scale)?;
    if q.negative {
        return Err(err_negative(s));
    }
    Ok(q)
}

/// A number given as a YAML/JSON float, as its shortest exact decimal text.
fn float_text(v: f64) -> Result<String, String> {
    if v.is_finite() {
        // `Display` for f64 never uses exponent notation and is the shortest decimal that
        // reads back to the same float.
        Ok(v.to_string())
    } else {
        Err(format!("invalid quantity {v}: expected a finite number"))
    }
}

/// Formats `v` with the largest suffix from `suffixes` (divisor, suffix) that divides it.
fn with_suffix(v: i64, suffixes: &[(i64, &str)]) -> String {
    if v != 0 {
        for &(div, suffix) in suffixes {
            if v % div == 0 {
                return format!("{}{suffix}", v / div);
            }
        }
    }
    v.to_string()
}

macro_rules! quantity_newtype {
    ($name:ident, $expecting:literal, $parse:path) => {
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $parse(s).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.canonical())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.canonical())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        $parse(v).map($name).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        self.visit_str(&float_text(v).map_err(E::custom)?)
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

/// CPU in millicores (`"500m"` → 500, `"2"` / `2` → 2000, `1.5` → 1500, `"0.1"` → 100).
/// Serializes as whole cores when exact (`"2"`), else millicores (`"500m"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuQuantity(pub i64);

impl CpuQuantity {
    /// Parses a non-negative CPU quantity into millicores.
    pub fn parse(s: &str) -> Result<i64, String> {
        parse_non_negative(s, 3).map(|q| q.value)
    }

    fn canonical(&self) -> String {
        if self.0 % 1000 == 0 { (self.0 / 1000).to_string() } else { format!("{}m", self.0) }
    }
}

quantity_newtype!(CpuQuantity, "a CPU quantity such as \"500m\", \"2\" or 1.5", CpuQuantity::parse);

/// Memory (or any byte size) in bytes (`"512Mi"`, `"2Gi"`, `"1G"`, `1024`). Fractional
/// bytes round up. Serializes with the largest exact binary suffix (`"512Mi"`), else the
/// largest exact decimal one (`"1G"`), else plain bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemQuantity(pub i64);

impl MemQuantity {
    /// Parses a non-negative byte quantity.
    pub fn parse(s: &str) -> Result<i64, String> {
        parse_non_negative(s, 0).map(|q| q.value)
    }

    fn canonical(&self) -> String {
        const SUFFIXES: [(i64, &str); 12] = [
            (1 << 60, "Ei"),
            (1 << 50, "Pi"),
            (1 << 40, "Ti"),
            (1 << 30, "Gi"),
            (1 << 20, "Mi"),
            (1 << 10, "Ki"),
            (1_000_000_000_000_000_000, "E"),
            (1_000_000_000_000_000, "P"),
            (1_000_000_000_000, "T"),
            (1_000_000_000, "G"),
            (1_000_000, "M"),
            (1_000, "k"),
        ];
        with_suffix(self.0, &SUFFIXES)
    }
}

quantity_newtype!(
    MemQuantity,
    "a byte quantity such as \"512Mi\", \"2Gi\", \"1G\" or 1024",
    MemQuantity::parse
);

/// A whole, non-negative count such as GPUs or pods (`"2"`, `2`, `"1k"`); fractions such
/// as `"0.5"` are rejected. Serializes as a plain integer string (`"1000"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountQuantity(pub i64);

impl CountQuantity {
    /// Parses a whole, non-negative count.
    pub fn parse(s: &str) -> Result<i64, String> {
        let q = parse_non_negative(s, 0)?;
        if !q.exact {
            return Err(format!("invalid quantity {s:?}: must be a whole number"));
        }
        Ok(q.value)
    }

    fn canonical(&self) -> String {
        self.0.to_string()
    }
}

quantity_newtype!(CountQuantity, "a whole count such as 2 or \"1k\"", CountQuantity::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GI: i64 = 1 << 30;
    const MI: i64 = 1 << 20;

    /// (input, parse_milli, parse_value); `None` means the call must fail as too large.
    #[test]
    fn parse_table() {
        let table: &[(&str, Option<i64>, Option<i64>)] = &[
            ("500m", Some(500), Some(1)),
            ("0.5", Some(500), Some(1)),
            ("1", Some(1000), Some(1)),
            ("2", Some(2000), Some(2)),
            ("0", Some(0), Some(0)),
            ("0.1", Some(100), Some(1)),
            ("2Gi", Some(2 * GI * 1000), Some(2 * GI)),
            ("512Mi", Some(512 * MI * 1000), Some(512 * MI)),
            ("100Mi", Some(100 * MI * 1000), Some(100 * MI)),
            ("1.5Gi", Some(1_610_612_736_000), Some(1_610_612_736)),
            ("1Ki", Some(1_024_000), Some(1024)),
            ("0.001Ki", Some(1024), Some(2)),
            ("1Ti", Some(1000 << 40), Some(1 << 40)),
            ("7Ei", None, Some(7 << 60)),
            ("1G", Some(1_000_000_000_000), Some(1_000_000_000)),
            ("1M", Some(1_000_000_000), Some(1_000_000)),
            ("1k", Some(1_000_000), Some(1000)),
            ("1T", Some(1_000_000_000_000_000), Some(1_000_000_000_000)),
            ("1P", Some(1_000_000_000_000_000_000), Some(1_000_000_000_000_000)),
            ("1E", None, Some(1_000_000_000_000_000_000)),
            ("1e3", Some(1_000_000), Some(1000)),
            ("1E3", Some(1_000_000), Some(1000)),
            ("1.5e3", Some(1_500_000), Some(1500)),
            ("1e-3", Some(1), Some(1)),
            ("1e+2", Some(100_000), Some(100)),
            ("0.5m", Some(1), Some(1)),
            ("250u", Some(1), Some(1)),
            ("100n", Some(1), Some(1)),
            ("0.0000000001", Some(1), Some(1)),
            ("1e-1000000", Some(1), Some(1)),
            ("0e1000000", Some(0), Some(0)),
            (".5", Some(500), Some(1)),
            ("1.", Some(1000), Some(1)),
            ("+2", Some(2000), Some(2)),
            ("-1", Some(-1000), Some(-1)),
            ("-1.5", Some(-1500), Some(-1)),
            ("-0.5m", Some(0), Some(0)),
            ("007.500", Some(7500), Some(8)),
            ("1.0000000000000000000000000001", Some(1001), Some(2)),
            (" 3 ", Some(3000), Some(3)),
            ("9223372036854775807", None, Some(i64::MAX)),
            ("9223372036854775808", None, None),
            ("-9223372036854775808", None, Some(i64::MIN)),
            ("9223372036854775807m", Some(i64::MAX), Some(9_223_372_036_854_776)),
            ("8Ei", None, None),
            ("99999999999999Ei", None, None),
            ("1e19", None, None),
            ("1e999999999999999999999", None, None),
        ];
        for &(input, milli, value) in table {
            match (milli, parse_milli(input)) {
                (Some(want), Ok(got)) => assert_eq!(got, want, "parse_milli({input:?})"),
                (None, Err(e)) => assert_eq!(e, err_too_large(input), "parse_milli({input:?})"),
                (want, got) => panic!("parse_milli({input:?}) = {got:?}, want {want:?}"),
            }
            match (value, parse_value(input)) {
                (Some(want), Ok(got)) => assert_eq!(got, want, "parse_value({input:?})"),
                (None, Err(e)) => assert_eq!(e, err_too_large(input), "parse_value({input:?})"),
                (want, got) => panic!("parse_value({input:?}) = {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            parse_value("2Gx"),
            Err("invalid quantity \"2Gx\": expected a number with an optional suffix \
                 (m, k, M, G, T, Ki, Mi, Gi, Ti, ...)"
                .to_string())
        );
        assert_eq!(
            parse_milli("99999999999999Ei"),
            Err("invalid quantity \"99999999999999Ei\": too large (the value must fit in a signed \
                 64-bit integer)"
                .to_string())
        );
        for bad in [
            "", "  ", "abc", "1.5.3", "2Gx", "1e", "1e3.5", "1K", "1ki", "Mi", "m", ".", "-", "--1", "1 Gi",
            "1e3m", "1mi", "0x10", "1,5", "1_000", "१",
        ] {
            assert_eq!(parse_value(bad), Err(err_syntax(bad)), "{bad:?}");
            assert_eq!(parse_milli(bad), Err(err_syntax(bad)), "{bad:?}");
        }
        // Surrounding whitespace is trimmed, as upstream does when reading JSON.
        assert_eq!(parse_value(" 1Gi\t"), Ok(GI));
    }

    #[test]
    fn newtypes_parse_and_reject() {
        assert_eq!("500m".parse::<CpuQuantity>(), Ok(CpuQuantity(500)));
        assert_eq!("0.1".parse::<CpuQuantity>(), Ok(CpuQuantity(100)));
        assert_eq!("2Gi".parse::<MemQuantity>(), Ok(MemQuantity(2 * GI)));
        assert_eq!("1k".parse::<CountQuantity>(), Ok(CountQuantity(1000)));
        assert_eq!("2.0".parse::<CountQuantity>(), Ok(CountQuantity(2)));
        assert_eq!("-0".parse::<CountQuantity>(), Ok(CountQuantity(0)));

        let neg = "invalid quantity \"-1\": must not be negative".to_string();
        assert_eq!("-1".parse::<CpuQuantity>(), Err(neg.clone()));
        assert_eq!("-1".parse::<MemQuantity>(), Err(neg.clone()));
        assert_eq!("-1".parse::<CountQuantity>(), Err(neg));
        // Negative even when the rounded value would be zero.
        assert_eq!(
            "-0.0001".parse::<CpuQuantity>(),
            Err("invalid quantity \"-0.0001\": must not be negative".to_string())
        );
        assert_eq!(
            "0.5".parse::<CountQuantity>(),
            Err("invalid quantity \"0.5\": must be a whole number".to_string())
        );
        assert_eq!(
            "1500m".parse::<CountQuantity>(),
            Err("invalid quantity \"1500m\": must be a whole number".to_string())
        );
        assert_eq!("abc".parse::<MemQuantity>(), Err(err_syntax("abc")));
        assert_eq!("".parse::<CpuQuantity>(), Err(err_syntax("")));
    }

    #[test]
    fn canonical_strings() {
        assert_eq!(CpuQuantity(500).to_string(), "500m");
        assert_eq!(CpuQuantity(2000).to_string(), "2");
        assert_eq!(CpuQuantity(0).to_string(), "0");
        assert_eq!(CpuQuantity(1500).to_string(), "1500m");
        assert_eq!(MemQuantity(512 * MI).to_string(), "512Mi");
        assert_eq!(MemQuantity(2 * GI).to_string(), "2Gi");
        assert_eq!(MemQuantity(1_000_000_000).to_string(), "1G");
        assert_eq!(MemQuantity(1_610_612_736).to_string(), "1536Mi");
        assert_eq!(MemQuantity(1_024_000).to_string(), "1000Ki");
        assert_eq!(MemQuantity(1023).to_string(), "1023");
        assert_eq!(MemQuantity(0).to_string(), "0");
        assert_eq!(CountQuantity(1000).to_string(), "1000");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Resources {
        cpu: CpuQuantity,
        memory: MemQuantity,
        gpus: CountQuantity,
    }

    #[test]
    fn serde_yaml_accepts_strings_and_numbers() {
        let table: &[(&str, Resources)] = &[
            (
                "cpu: 500m\nmemory: 512Mi\ngpus: 2\n",
                Resources { cpu: CpuQuantity(500), memory: MemQuantity(512 * MI), gpus: CountQuantity(2) },
            ),
            (
                "cpu: 2\nmemory: 1024\ngpus: \"1k\"\n",
                Resources { cpu: CpuQuantity(2000), memory: MemQuantity(1024), gpus: CountQuantity(1000) },
            ),
            (
                "cpu: 1.5\nmemory: 1G\ngpus: 0\n",
                Resources {
                    cpu: CpuQuantity(1500),
                    memory: MemQuantity(1_000_000_000),
                    gpus: CountQuantity(0),
                },
            ),
            (
                "cpu: 0.1\nmemory: \"1.5Gi\"\ngpus: 1e3\n",
                Resources {
                    cpu: CpuQuantity(100),
                    memory: MemQuantity(1_610_612_736),
                    gpus: CountQuantity(1000),
                },
            ),
        ];
        for (yaml, want) in table {
            let got: Resources = serde_saphyr::from_str(yaml).unwrap();
            assert_eq!(&got, want, "{yaml}");
            let back = serde_saphyr::to_string(&got).unwrap();
            assert_eq!(&serde_saphyr::from_str::<Resources>(&back).unwrap(), want, "{back}");
            let json = serde_json::to_string(&got).unwrap();
            assert_eq!(&serde_json::from_str::<Resources>(&json).unwrap(), want, "{json}");
        }
    }

    #[test]
    fn serde_json_forms_and_errors() {
        let r: Resources = serde_json::from_str(r#"{"cpu": 0.25, "memory": "2Gi", "gpus": 4}"#).unwrap();
        assert_eq!(
            r,
            Resources { cpu: CpuQuantity(250), memory: MemQuantity(2 * GI), gpus: CountQuantity(4) }
        );
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"cpu":"250m","memory":"2Gi","gpus":"4"}"#);

        let e = serde_json::from_str::<CpuQuantity>("-1").unwrap_err().to_string();
        assert!(e.contains("invalid quantity \"-1\": must not be negative"), "{e}");
        let e = serde_json::from_str::<CpuQuantity>("-0.5").unwrap_err().to_string();
        assert!(e.contains("invalid quantity \"-0.5\": must not be negative"), "{e}");
        let e = serde_json::from_str::<CountQuantity>("0.5").unwrap_err().to_string();
        assert!(e.contains("invalid quantity \"0.5\": must be a whole number"), "{e}");
        let e = serde_json::from_str::<MemQuantity>("18446744073709551615").unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
        let e = serde_json::from_str::<MemQuantity>("true").unwrap_err().to_string();
        assert!(e.contains("a byte quantity such as"), "{e}");
        let e = serde_saphyr::from_str::<MemQuantity>("2Gx").unwrap_err().to_string();
        assert!(e.contains(&err_syntax("2Gx")), "{e}");
        // serde-saphyr rejects non-finite floats itself for self-describing targets.
        let e = serde_saphyr::from_str::<CpuQuantity>(".inf").unwrap_err().to_string();
        assert!(e.contains("non-finite float"), "{e}");
        assert_eq!(float_text(f64::NAN), Err("invalid quantity NaN: expected a finite number".to_string()));
        let e = serde_saphyr::from_str::<CountQuantity>("-3").unwrap_err().to_string();
        assert!(e.contains("must not be negative"), "{e}");
    }

    proptest! {
        #[test]
        fn canonical_string_roundtrips(v in 0i64..=i64::MAX) {
            prop_assert_eq!(CpuQuantity(v).to_string().parse::<CpuQuantity>(), Ok(CpuQuantity(v)));
            prop_assert_eq!(MemQuantity(v).to_string().parse::<MemQuantity>(), Ok(MemQuantity(v)));
            prop_assert_eq!(CountQuantity(v).to_string().parse::<CountQuantity>(), Ok(CountQuantity(v)));
            let json = serde_json::to_string(&MemQuantity(v)).unwrap();
            prop_assert_eq!(serde_json::from_str::<MemQuantity>(&json).unwrap(), MemQuantity(v));
        }

        #[test]
        fn round_numbers_roundtrip(n in 0i64..1_000_000, shift in 0u32..40) {
            let v = n << shift;
            prop_assert_eq!(MemQuantity(v).to_string().parse::<MemQuantity>(), Ok(MemQuantity(v)));
            prop_assert_eq!(CpuQuantity(n * 1000).to_string(), n.to_string());
        }

        #[test]
        fn milli_is_thousand_times_value_for_integers(v in -1_000_000_000i64..1_000_000_000) {
            let s = v.to_string();
            prop_assert_eq!(parse_value(&s), Ok(v));
            prop_assert_eq!(parse_milli(&s), Ok(v * 1000));
        }

        #[test]
        fn parser_never_panics(s in "[-+0-9.eEkKmMGTPinu ]{0,24}|\\PC{0,12}") {
            let _ = parse_milli(&s);
            let _ = parse_value(&s);
            let _ = s.parse::<CountQuantity>();
        }
    }
}
