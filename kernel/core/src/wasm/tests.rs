//! Host tests of the interpreter on modules assembled from WAT by the `wat` crate.

use super::*;
use std::string::{String, ToString};
use std::vec::Vec;

/// A host with `env.print(ptr, len)` (text collected), `env.add(a, b) -> i32` and `env.fail()`.
#[derive(Default)]
struct TestHost {
    out: String,
}

impl Host for TestHost {
    fn resolve(&mut self, module: &str, name: &str, _ty: &FuncType) -> Option<usize> {
        (module == "env").then_some(())?;
        ["print", "add", "fail"].iter().position(|n| *n == name)
    }

    fn call(&mut self, index: usize, args: &[u64], memory: &mut [u8]) -> Result<Option<u64>, Trap> {
        match index {
            0 => {
                let (ptr, len) = (args[0] as usize, args[1] as usize);
                let bytes = memory.get(ptr..ptr + len).ok_or(Trap::Host("print outside memory"))?;
                self.out.push_str(core::str::from_utf8(bytes).unwrap());
                Ok(None)
            }
            1 => Ok(Some((args[0] as u32).wrapping_add(args[1] as u32) as u64)),
            _ => Err(Trap::Host("fail called")),
        }
    }
}

/// Runs export `name` of the module `wat` with `args` and `fuel`: the result or trap, and the host.
fn run(wat: &str, name: &str, args: &[u64], fuel: u64) -> (Result<Option<u64>, Trap>, TestHost, ExecView) {
    let bytes = wat::parse_str(wat).expect("valid WAT");
    let module = Module::decode(&bytes).expect("decodes");
    let mut host = TestHost::default();
    let view = ExecView::new();
    view.fuel_limit.store(fuel, core::sync::atomic::Ordering::Relaxed);
    let result = Instance::new(&module, &bytes, &mut host).and_then(|mut i| i.call(name, args, &mut host, &view));
    (result, host, view)
}

fn value(wat: &str, name: &str, args: &[u64]) -> u64 {
    run(wat, name, args, 1_000_000).0.unwrap().unwrap()
}

const ARITH: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
  (func (export "shr_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shr_s)
  (func (export "mul64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "div_u64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_u)
  (func (export "lt_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.lt_s)
  (func (export "clz") (param i32) (result i32) local.get 0 i32.clz)
  (func (export "ext") (param i32) (result i64) local.get 0 i64.extend_i32_s)
  (func (export "wrap") (param i64) (result i32) local.get 0 i32.wrap_i64)
  (func (export "rotl64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rotl)
  (func (export "sel") (param i32) (result i32) i32.const 10 i32.const 20 local.get 0 select)
  (func (export "ext8") (param i32) (result i32) local.get 0 i32.extend8_s))"#;

#[test]
fn integer_arithmetic() {
    let m1 = u32::MAX as u64; // -1 as i32
    assert_eq!(value(ARITH, "add", &[m1, 2]), 1);
    assert_eq!(value(ARITH, "div_s", &[(-7i32) as u32 as u64, 2]), (-3i32) as u32 as u64);
    assert_eq!(value(ARITH, "rem_s", &[(-7i32) as u32 as u64, 2]), (-1i32) as u32 as u64);
    assert_eq!(value(ARITH, "rem_s", &[i32::MIN as u32 as u64, m1]), 0);
    assert_eq!(value(ARITH, "shr_s", &[0x8000_0000, 33]), 0xC000_0000);
    assert_eq!(value(ARITH, "mul64", &[1 << 40, (1 << 30) + 3]), 3 << 40, "2^70 wraps away");
    assert_eq!(value(ARITH, "div_u64", &[u64::MAX, 2]), u64::MAX / 2);
    assert_eq!(value(ARITH, "lt_s", &[m1, 0]), 1);
    assert_eq!(value(ARITH, "clz", &[1]), 31);
    assert_eq!(value(ARITH, "ext", &[m1]), u64::MAX);
    assert_eq!(value(ARITH, "wrap", &[0x1_2345_6789]), 0x2345_6789);
    assert_eq!(value(ARITH, "rotl64", &[0x8000_0000_0000_0001, 1]), 3);
    assert_eq!((value(ARITH, "sel", &[1]), value(ARITH, "sel", &[0])), (10, 20));
    assert_eq!(value(ARITH, "ext8", &[0x80]), 0xFFFF_FF80);
}

#[test]
fn division_traps() {
    assert_eq!(run(ARITH, "div_s", &[1, 0], 100).0, Err(Trap::DivideByZero));
    assert_eq!(run(ARITH, "div_s", &[i32::MIN as u32 as u64, u32::MAX as u64], 100).0, Err(Trap::IntegerOverflow));
    assert_eq!(run(ARITH, "div_u64", &[1, 0], 100).0, Err(Trap::DivideByZero));
}

const CONTROL: &str = r#"(module
  (global $g (mut i32) (i32.const 5))
  (func $fact (export "fact") (param i64) (result i64)
    local.get 0 i64.eqz
    if (result i64) i64.const 1
    else local.get 0 local.get 0 i64.const 1 i64.sub call $fact i64.mul end)
  (func (export "sum") (param i32) (result i32) (local i32)
    block $done
      loop $again
        local.get 0 i32.eqz br_if $done
        local.get 1 local.get 0 i32.add local.set 1
        local.get 0 i32.const 1 i32.sub local.set 0
        br $again
      end
    end
    local.get 1)
  (func (export "table") (param i32) (result i32)
    block $c block $b block $a
      local.get 0 br_table $a $b $c
    end i32.const 100 return
    end i32.const 200 return
    end i32.const 300)
  (func (export "early") (param i32) (result i32)
    block (result i32) i32.const 7 local.get 0 br_if 0 drop i32.const 8 end)
  (func (export "bump") (result i32) global.get $g i32.const 1 i32.add global.set $g global.get $g))"#;

#[test]
fn blocks_loops_branches_calls_and_globals() {
    assert_eq!(value(CONTROL, "fact", &[20]), 2_432_902_008_176_640_000);
    assert_eq!(value(CONTROL, "sum", &[100]), 5050);
    assert_eq!(value(CONTROL, "table", &[0]), 100);
    assert_eq!(value(CONTROL, "table", &[1]), 200);
    assert_eq!(value(CONTROL, "table", &[2]), 300);
    assert_eq!(value(CONTROL, "table", &[99]), 300, "out of range takes the default");
    assert_eq!(value(CONTROL, "early", &[1]), 7);
    assert_eq!(value(CONTROL, "early", &[0]), 8);
    assert_eq!(value(CONTROL, "bump", &[]), 6);
}

#[test]
fn fuel_stops_a_runaway_loop_and_counts_instructions() {
    let (result, _, view) = run(r#"(module (func (export "spin") (loop br 0)))"#, "spin", &[], 10_000);
    assert_eq!(result, Err(Trap::FuelExhausted(10_000)));
    assert_eq!(view.fuel_used.into_inner(), 10_000);
    let (result, _, view) = run(CONTROL, "sum", &[10], 1_000_000);
    assert_eq!(result, Ok(Some(55)));
    let used = view.fuel_used.into_inner();
    assert!(used > 100 && used < 300, "{}", used);
    assert_eq!(run(CONTROL, "sum", &[10], used).0, Ok(Some(55)));
    assert_eq!(run(CONTROL, "sum", &[10], used - 1).0, Err(Trap::FuelExhausted(used - 1)));
}

#[test]
fn deep_recursion_is_a_stack_overflow_trap() {
    let wat = r#"(module (func $f (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $f))"#;
    let (result, _, view) = run(wat, "f", &[0], 1_000_000);
    assert_eq!(result, Err(Trap::StackOverflow));
    assert_eq!(view.depth.into_inner() as usize, MAX_DEPTH, "the stack that trapped stays in the view");
}

const MEMORY: &str = r#"(module
  (import "env" "print" (func $print (param i32 i32)))
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "fail" (func $fail))
  (memory 1 2)
  (data (i32.const 16) "hello from wasm\n")
  (func (export "hello") i32.const 16 i32.const 16 call $print)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "load8s") (param i32) (result i32) local.get 0 i32.load8_s offset=16)
  (func (export "store64") (param i32 i64) (result i64) local.get 0 local.get 1 i64.store local.get 0 i64.load)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "host_add") (result i32) i32.const 40 i32.const 2 call $add)
  (func (export "host_fail") call $fail)
  (func (export "trap") unreachable))"#;

#[test]
fn memory_data_and_host_functions() {
    let (result, host, view) = run(MEMORY, "hello", &[], 1000);
    assert_eq!(result, Ok(None));
    assert_eq!(host.out, "hello from wasm\n");
    assert_eq!(view.memory_pages.into_inner(), 1);
    assert_eq!(value(MEMORY, "load", &[16]), u32::from_le_bytes(*b"hell") as u64);
    assert_eq!(value(MEMORY, "load8s", &[0]), b'h' as u64);
    assert_eq!(value(MEMORY, "store64", &[65528, 0x0102_0304_0506_0708]), 0x0102_0304_0506_0708);
    assert_eq!(value(MEMORY, "grow", &[1]), 1);
    assert_eq!(value(MEMORY, "grow", &[2]), u32::MAX as u64, "past the maximum");
    assert_eq!(value(MEMORY, "size", &[]), 1);
    assert_eq!(value(MEMORY, "host_add", &[]), 42);
    assert_eq!(run(MEMORY, "host_fail", &[], 100).0, Err(Trap::Host("fail called")));
}

#[test]
fn traps_are_errors_with_one_line_messages() {
    assert_eq!(run(MEMORY, "load", &[65533], 100).0, Err(Trap::OutOfBounds(65533, 4)));
    assert_eq!(run(MEMORY, "load", &[u32::MAX as u64], 100).0, Err(Trap::OutOfBounds(u32::MAX as u64, 4)));
    assert_eq!(run(MEMORY, "store64", &[65529, 1], 100).0, Err(Trap::OutOfBounds(65529, 8)));
    assert_eq!(run(MEMORY, "trap", &[], 100).0, Err(Trap::Unreachable));
    assert_eq!(run(MEMORY, "nothing", &[], 100).0, Err(Trap::NoExport("nothing".into())));
    let messages: Vec<String> = [
        Trap::Unreachable, Trap::OutOfBounds(0x10000, 4), Trap::DivideByZero, Trap::StackOverflow,
        Trap::FuelExhausted(5), Trap::MissingImport("env".into(), "x".into()), Trap::Malformed("bad", 8),
    ].iter().map(|t| t.to_string()).collect();
    assert_eq!(messages, [
        "trap: unreachable executed", "trap: out-of-bounds memory access (4 bytes at 0x10000)",
        "trap: integer divide by zero", "trap: call stack exhausted (more than 64 frames)",
        "trap: out of fuel after 5 instructions", "missing import env.x", "malformed module: bad at byte 0x8",
    ]);
    assert!(messages.iter().all(|m| !m.contains('\n')));
}

#[test]
fn a_missing_import_fails_instantiation() {
    let bytes = wat::parse_str(r#"(module (import "env" "nope" (func)))"#).unwrap();
    let module = Module::decode(&bytes).unwrap();
    let err = Instance::new(&module, &bytes, &mut TestHost::default()).err().unwrap();
    assert_eq!(err, Trap::MissingImport("env".into(), "nope".into()));
}

#[test]
fn names_come_from_the_name_section() {
    let bytes = wat::parse_str(CONTROL).unwrap();
    let module = Module::decode(&bytes).unwrap();
    assert_eq!(module.func_name(0), Some("fact"));
    let bytes = wat::parse_str(MEMORY).unwrap();
    let module = Module::decode(&bytes).unwrap();
    assert_eq!(module.func_name(0), Some("print"));
    assert_eq!(module.imports.len(), 3);
    assert_eq!(module.memory, Some((1, 2)));
}

#[test]
fn the_view_holds_the_call_stack_while_a_host_function_runs() {
    struct Peek<'v> {
        view: &'v ExecView,
        seen: Vec<u32>,
    }
    impl Host for Peek<'_> {
        fn resolve(&mut self, _: &str, _: &str, _: &FuncType) -> Option<usize> {
            Some(0)
        }
        fn call(&mut self, _: usize, _: &[u64], _: &mut [u8]) -> Result<Option<u64>, Trap> {
            let depth = self.view.depth.load(core::sync::atomic::Ordering::Relaxed) as usize;
            self.seen = self.view.stack[..depth].iter().map(|s| s.load(core::sync::atomic::Ordering::Relaxed)).collect();
            Ok(None)
        }
    }
    let bytes = wat::parse_str(r#"(module (import "env" "peek" (func $peek))
        (func $inner call $peek) (func $outer call $inner) (func (export "main") call $outer))"#).unwrap();
    let module = Module::decode(&bytes).unwrap();
    let view = ExecView::new();
    view.fuel_limit.store(1000, core::sync::atomic::Ordering::Relaxed);
    let mut host = Peek { view: &view, seen: Vec::new() };
    let mut instance = Instance::new(&module, &bytes, &mut host).unwrap();
    instance.call("main", &[], &mut host, &view).unwrap();
    assert_eq!(host.seen, [3, 2, 1], "main, outer, inner (the import is function 0)");
    assert_eq!(view.depth.into_inner(), 0, "empty again after the run");
    assert_eq!(module.func_name(2), Some("outer"));
}

#[test]
fn malformed_and_unsupported_modules_are_errors() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "not a WebAssembly module"),
        (b"\0asx\x01\0\0\0", "not a WebAssembly module (no \\0asm magic)"),
        (b"\0asm\x02\0\0\0", "unsupported binary version"),
        (b"\0asm\x01\0\0\0\x01\x05\x01", "unexpected end"),
        (b"\0asm\x01\0\0\0\x63\x00", "unknown section"),
    ];
    for (bytes, what) in cases {
        match Module::decode(bytes) {
            Err(Trap::Malformed(w, _)) => assert_eq!(w, *what),
            other => panic!("{:?}: {:?}", bytes, other),
        }
    }
    for wat in [
        r#"(module (func (result f32) f32.const 1))"#,
        r#"(module (table 1 funcref))"#,
        r#"(module (func i32.const 0 i32.load drop))"#,
    ] {
        let bytes = wat::parse_str(wat).unwrap();
        assert!(matches!(Module::decode(&bytes), Err(Trap::Malformed(..))), "{}", wat);
    }
    // Locals are bounded across the module: 20 functions of 40,000 locals each are refused.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"\0asm\x01\0\0\0");
    bytes.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type () -> ()
    bytes.extend_from_slice(&[0x03, 0x15, 0x14]);
    bytes.extend(std::iter::repeat_n(0u8, 20)); // 20 functions of type 0
    let body: &[u8] = &[0x06, 0x01, 0xC0, 0xB8, 0x02, 0x7E, 0x0B]; // 40,000 i64 locals, end
    let mut code = vec![0x14u8];
    for _ in 0..20 {
        code.extend_from_slice(body);
    }
    assert!((128..16384).contains(&code.len()));
    bytes.extend_from_slice(&[0x0A, (code.len() as u8) | 0x80, (code.len() >> 7) as u8]); // size as a 2-byte LEB128
    bytes.extend_from_slice(&code);
    match Module::decode(&bytes) {
        Err(Trap::Malformed(what, _)) => assert_eq!(what, "too many locals"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    // Every truncation of a valid module is an error, never a panic.
    let bytes = wat::parse_str(CONTROL).unwrap();
    for n in 0..bytes.len() {
        let _ = Module::decode(&bytes[..n]);
    }
}

#[test]
fn an_invalid_stack_at_run_time_is_a_trap_not_a_panic() {
    // Bypasses type checking: i32.add on an empty stack, hand-encoded.
    let bytes: Vec<u8> = [
        &b"\0asm\x01\0\0\0"[..],
        &[0x01, 0x04, 0x01, 0x60, 0x00, 0x00],       // type () -> ()
        &[0x03, 0x02, 0x01, 0x00],                   // func 0: type 0
        &[0x07, 0x05, 0x01, 0x01, b'f', 0x00, 0x00], // export "f"
        &[0x0A, 0x05, 0x01, 0x03, 0x00, 0x6A, 0x0B], // body: i32.add end
    ].concat();
    let module = Module::decode(&bytes).unwrap();
    let view = ExecView::new();
    view.fuel_limit.store(100, core::sync::atomic::Ordering::Relaxed);
    let mut host = TestHost::default();
    let result = Instance::new(&module, &bytes, &mut host).unwrap().call("f", &[], &mut host, &view);
    assert!(matches!(result, Err(Trap::BadStack(_))), "{:?}", result);
}

/// The ramdisk's programs (kernel/wasm/*.wat) decode, and hello and spin run.
#[test]
fn the_ramdisk_programs_decode_and_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm");
    struct Kernelish(String);
    impl Host for Kernelish {
        fn resolve(&mut self, module: &str, name: &str, _: &FuncType) -> Option<usize> {
            (module == "rustos").then(|| if name == "print" { 0 } else if name == "argc" { 1 } else { 2 })
        }
        fn call(&mut self, index: usize, args: &[u64], memory: &mut [u8]) -> Result<Option<u64>, Trap> {
            match index {
                0 => {
                    let (p, n) = (args[0] as usize, args[1] as usize);
                    self.0.push_str(std::str::from_utf8(&memory[p..p + n]).unwrap());
                    Ok(None)
                }
                1 => Ok(Some(0)),
                _ => Ok(Some(0)),
            }
        }
    }
    for name in ["hello", "spin", "trap", "snake"] {
        let bytes = wat::parse_file(dir.join(format!("{}.wat", name))).unwrap();
        let module = Module::decode(&bytes).unwrap_or_else(|e| panic!("{}: {}", name, e));
        assert!(module.export("main").is_some(), "{}", name);
        let mut host = Kernelish(String::new());
        let view = ExecView::new();
        view.fuel_limit.store(100_000, core::sync::atomic::Ordering::Relaxed);
        let result = Instance::new(&module, &bytes, &mut host).unwrap().call("main", &[], &mut host, &view);
        match name {
            "hello" => assert_eq!((result, host.0.as_str()), (Ok(None), "hello from wasm\n")),
            "spin" => assert_eq!(result, Err(Trap::FuelExhausted(100_000))),
            "snake" => assert_eq!((result, host.0.as_str()), (Ok(Some(1)), "snake: no framebuffer\n")),
            _ => assert_eq!(result, Ok(Some(2)), "trap.wasm without an argument prints its usage"),
        }
    }
}
