//! Assembles WebAssembly text into binary modules with the `wat` crate, keeping
//! the `name` section (function names for the debugger).
//!
//! Usage: `wat2wasm IN.wat OUT.wasm [IN.wat OUT.wasm ...]`; an error is one
//! line naming the file and position, and the exit status is 1.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.len() % 2 != 0 {
        eprintln!("usage: wat2wasm IN.wat OUT.wasm [IN.wat OUT.wasm ...]");
        return ExitCode::from(2);
    }
    for pair in args.chunks(2) {
        let bytes = match wat::parse_file(&pair[0]) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("wat2wasm: {}", e.to_string().replace('\n', " "));
                return ExitCode::from(1);
            }
        };
        if let Err(e) = std::fs::write(&pair[1], bytes) {
            eprintln!("wat2wasm: {}: {}", pair[1], e);
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
