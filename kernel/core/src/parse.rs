//! Parsing helpers for the shell and the kernel command line.

/// Parses a number written in hex (`0x...` or bare hex digits, `_` allowed).
pub fn parse_hex(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(16)? as u64;
        value = value.checked_mul(16)?.checked_add(d)?;
        any = true;
    }
    any.then_some(value)
}

/// Parses a decimal number.
pub fn parse_dec(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.chars().try_fold(0u64, |acc, c| acc.checked_mul(10)?.checked_add(c.to_digit(10)? as u64))
}

/// What the kernel command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootMode<'a> {
    /// No mode word: start the shell.
    Shell,
    /// `test`: run the whole in-kernel suite.
    TestAll,
    /// `test=NAME`: run one test.
    TestOne(&'a str),
    /// `bench` or `bench=ROUNDS`: run the CPU-bound benchmark workload.
    Bench(u64),
}

/// Rounds of the benchmark workload when `bench` gives no number.
pub const DEFAULT_BENCH_ROUNDS: u64 = 20;

/// Reads the boot mode from a command line (words separated by spaces).
pub fn boot_mode(cmdline: &str) -> BootMode<'_> {
    for word in cmdline.split_whitespace() {
        if word == "test" {
            return BootMode::TestAll;
        }
        if let Some(name) = word.strip_prefix("test=") {
            return BootMode::TestOne(name);
        }
        if word == "bench" {
            return BootMode::Bench(DEFAULT_BENCH_ROUNDS);
        }
        if let Some(rounds) = word.strip_prefix("bench=").and_then(parse_dec) {
            return BootMode::Bench(rounds);
        }
    }
    BootMode::Shell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_numbers() {
        assert_eq!(parse_hex("0xdeadbeef000"), Some(0xdead_beef_000));
        assert_eq!(parse_hex("4444_4444_0000"), Some(0x4444_4444_0000));
        assert_eq!(parse_hex("0x"), None);
        assert_eq!(parse_hex("xyz"), None);
        assert_eq!(parse_hex("0x1_0000_0000_0000_0000"), None);
    }

    #[test]
    fn decimal_numbers() {
        assert_eq!(parse_dec("1234"), Some(1234));
        assert_eq!(parse_dec("12a"), None);
    }

    #[test]
    fn modes() {
        assert_eq!(boot_mode(""), BootMode::Shell);
        assert_eq!(boot_mode("quiet test"), BootMode::TestAll);
        assert_eq!(boot_mode("test=heap_growth"), BootMode::TestOne("heap_growth"));
        assert_eq!(boot_mode("bench"), BootMode::Bench(DEFAULT_BENCH_ROUNDS));
        assert_eq!(boot_mode("bench=7"), BootMode::Bench(7));
        assert_eq!(boot_mode("bench=x"), BootMode::Shell);
    }
}
