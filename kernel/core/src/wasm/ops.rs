//! The integer instructions without immediates (core spec §4.3.2), on values
//! held as 64-bit words (an i32 in the low half, zero-extended).

use super::Trap;

/// Operands an instruction takes: 1 or 2.
pub fn arity(op: u8) -> usize {
    match op {
        0x45 | 0x50 | 0x67..=0x69 | 0x79..=0x7B | 0xA7 | 0xAC | 0xAD | 0xC0..=0xC4 => 1,
        _ => 2,
    }
}

fn b(v: bool) -> u64 {
    v as u64
}

/// Runs a one-operand instruction.
pub fn unary(op: u8, a: u64) -> u64 {
    let a32 = a as u32;
    match op {
        0x45 => b(a32 == 0),
        0x50 => b(a == 0),
        0x67 => a32.leading_zeros() as u64,
        0x68 => a32.trailing_zeros() as u64,
        0x69 => a32.count_ones() as u64,
        0x79 => a.leading_zeros() as u64,
        0x7A => a.trailing_zeros() as u64,
        0x7B => a.count_ones() as u64,
        0xA7 => a32 as u64,
        0xAC => a32 as i32 as i64 as u64,
        0xAD => a32 as u64,
        0xC0 => a32 as i8 as i32 as u32 as u64,
        0xC1 => a32 as i16 as i32 as u32 as u64,
        0xC2 => a as i8 as i64 as u64,
        0xC3 => a as i16 as i64 as u64,
        _ => a as i32 as i64 as u64, // 0xC4
    }
}

/// Runs a two-operand instruction (`a` below `b` on the stack).
pub fn binary(op: u8, a: u64, c: u64) -> Result<u64, Trap> {
    let (x, y) = (a as u32, c as u32);
    let (sx, sy) = (x as i32, y as i32);
    let (sa, sc) = (a as i64, c as i64);
    Ok(match op {
        0x46 => b(x == y),
        0x47 => b(x != y),
        0x48 => b(sx < sy),
        0x49 => b(x < y),
        0x4A => b(sx > sy),
        0x4B => b(x > y),
        0x4C => b(sx <= sy),
        0x4D => b(x <= y),
        0x4E => b(sx >= sy),
        0x4F => b(x >= y),
        0x51 => b(a == c),
        0x52 => b(a != c),
        0x53 => b(sa < sc),
        0x54 => b(a < c),
        0x55 => b(sa > sc),
        0x56 => b(a > c),
        0x57 => b(sa <= sc),
        0x58 => b(a <= c),
        0x59 => b(sa >= sc),
        0x5A => b(a >= c),
        0x6A => x.wrapping_add(y) as u64,
        0x6B => x.wrapping_sub(y) as u64,
        0x6C => x.wrapping_mul(y) as u64,
        0x6D => {
            nonzero(y as u64)?;
            sx.checked_div(sy).ok_or(Trap::IntegerOverflow)? as u32 as u64
        }
        0x6E => {
            nonzero(y as u64)?;
            (x / y) as u64
        }
        0x6F => {
            nonzero(y as u64)?;
            sx.wrapping_rem(sy) as u32 as u64
        }
        0x70 => {
            nonzero(y as u64)?;
            (x % y) as u64
        }
        0x71 => (x & y) as u64,
        0x72 => (x | y) as u64,
        0x73 => (x ^ y) as u64,
        0x74 => x.wrapping_shl(y) as u64,
        0x75 => sx.wrapping_shr(y) as u32 as u64,
        0x76 => x.wrapping_shr(y) as u64,
        0x77 => x.rotate_left(y % 32) as u64,
        0x78 => x.rotate_right(y % 32) as u64,
        0x7C => a.wrapping_add(c),
        0x7D => a.wrapping_sub(c),
        0x7E => a.wrapping_mul(c),
        0x7F => {
            nonzero(c)?;
            sa.checked_div(sc).ok_or(Trap::IntegerOverflow)? as u64
        }
        0x80 => {
            nonzero(c)?;
            a / c
        }
        0x81 => {
            nonzero(c)?;
            sa.wrapping_rem(sc) as u64
        }
        0x82 => {
            nonzero(c)?;
            a % c
        }
        0x83 => a & c,
        0x84 => a | c,
        0x85 => a ^ c,
        0x86 => a.wrapping_shl(c as u32),
        0x87 => sa.wrapping_shr(c as u32) as u64,
        0x88 => a.wrapping_shr(c as u32),
        0x89 => a.rotate_left((c % 64) as u32),
        _ => a.rotate_right((c % 64) as u32), // 0x8A
    })
}

fn nonzero(v: u64) -> Result<(), Trap> {
    if v == 0 { Err(Trap::DivideByZero) } else { Ok(()) }
}
