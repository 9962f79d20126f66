;; hello.wasm: prints "hello from wasm", then each argument on its own line.
(module
  (import "rustos" "print" (func $print (param i32 i32)))
  (import "rustos" "argc" (func $argc (result i32)))
  (import "rustos" "arg" (func $arg (param i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "hello from wasm\n")
  (data (i32.const 16) "arg: ")
  (data (i32.const 21) "\n")
  (func (export "main")
    (local $i i32) (local $n i32)
    (call $print (i32.const 0) (i32.const 16))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (call $argc)))
        (call $print (i32.const 16) (i32.const 5))
        (local.set $n (call $arg (local.get $i) (i32.const 256) (i32.const 1024)))
        (if (i32.gt_s (local.get $n) (i32.const 1024)) (then (local.set $n (i32.const 1024))))
        (call $print (i32.const 256) (local.get $n))
        (call $print (i32.const 21) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
