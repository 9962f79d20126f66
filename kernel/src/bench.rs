//! A CPU-bound workload for `scripts/bench` (`bench` or `bench=N` on the command line).
//!
//! [`rustos_bench_workload`] touches no device and no heap, so a benchmark
//! can also run it alone under a bare emulator (entered with the boot page
//! tables, returning to its caller) and compare speeds on the same code.

use core::hint::black_box;

/// Words in the sieve buffer (64 KiB).
const SIEVE_WORDS: usize = 8192;
static mut SIEVE: [u64; SIEVE_WORDS] = [0; SIEVE_WORDS];

/// Runs `rounds` rounds of a prime sieve over 524288 numbers plus an xorshift
/// mix; returns a checksum. No I/O, no allocation, no interrupts needed.
#[no_mangle]
pub extern "C" fn rustos_bench_workload(rounds: u64) -> u64 {
    let mut checksum: u64 = 0x9E37_79B9_7F4A_7C15;
    // SAFETY: only this function touches SIEVE, and it is not reentrant.
    let sieve = unsafe { &mut *core::ptr::addr_of_mut!(SIEVE) };
    for round in 0..rounds {
        sieve.fill(0);
        let limit = SIEVE_WORDS * 64;
        let mut n = 2;
        while n * n < limit {
            if sieve[n / 64] & (1 << (n % 64)) == 0 {
                let mut m = n * n;
                while m < limit {
                    sieve[m / 64] |= 1 << (m % 64);
                    m += n;
                }
            }
            n += 1;
        }
        let mut x = checksum ^ round;
        for word in sieve.iter() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x = x.wrapping_add(black_box(*word).count_zeros() as u64);
        }
        checksum = checksum.rotate_left(5) ^ x;
    }
    checksum
}

/// Boot mode `bench=N`: runs the workload N rounds, prints the checksum, exits 0x10.
pub fn run(rounds: u64) -> ! {
    println!("bench: {} rounds", rounds);
    let checksum = rustos_bench_workload(black_box(rounds));
    println!("bench: checksum {:#018x}", checksum);
    crate::exit::exit(crate::exit::ExitCode::Success)
}
