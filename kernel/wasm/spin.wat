;; spin.wasm: a runaway loop; the fuel limit stops it.
(module
  (func $forever (export "main")
    (loop $again (br $again))))
