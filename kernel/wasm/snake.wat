;; snake.wasm: the snake game on the framebuffer. w/a/s/d or the arrows steer,
;; q quits; eating the red square grows the snake. A 32 x 18 grid of square
;; cells as large as the screen allows. Memory: 1024.. one byte per cell
;; (1: snake), 2048.. the body as a ring of cell indices (i32).
(module
  (import "rustos" "print" (func $print (param i32 i32)))
  (import "rustos" "print_int" (func $print_int (param i64)))
  (import "rustos" "uptime_ms" (func $uptime (result i64)))
  (import "rustos" "key" (func $key (result i32)))
  (import "rustos" "sleep_ms" (func $sleep (param i32)))
  (import "rustos" "fb_width" (func $fb_width (result i32)))
  (import "rustos" "fb_height" (func $fb_height (result i32)))
  (import "rustos" "fill_rect" (func $fill_rect (param i32 i32 i32 i32 i32)))
  (import "rustos" "clear" (func $clear (param i32)))
  (memory 1)
  (data (i32.const 0) "snake: no framebuffer\n")
  (data (i32.const 32) "snake: game over, score ")
  (data (i32.const 64) "\n")
  (data (i32.const 80) "snake: w/a/s/d or arrows steer, q quits\n")
  (global $cols i32 (i32.const 32))
  (global $rows i32 (i32.const 18))
  (global $cells i32 (i32.const 576))
  (global $cell (mut i32) (i32.const 0))
  (global $head (mut i32) (i32.const 575))
  (global $len (mut i32) (i32.const 0))
  (global $dx (mut i32) (i32.const 1))
  (global $dy (mut i32) (i32.const 0))
  (global $food (mut i32) (i32.const 0))
  (global $seed (mut i32) (i32.const 1))
  (global $score (mut i32) (i32.const 0))

  (func $rand (result i32)
    (global.set $seed (i32.add (i32.mul (global.get $seed) (i32.const 1103515245)) (i32.const 12345)))
    (i32.shr_u (global.get $seed) (i32.const 16)))

  (func $draw_cell (param $c i32) (param $rgb i32)
    (call $fill_rect
      (i32.mul (i32.rem_u (local.get $c) (global.get $cols)) (global.get $cell))
      (i32.mul (i32.div_u (local.get $c) (global.get $cols)) (global.get $cell))
      (i32.sub (global.get $cell) (i32.const 1))
      (i32.sub (global.get $cell) (i32.const 1))
      (local.get $rgb)))

  (func $occupied (param $c i32) (result i32)
    (i32.load8_u (i32.add (local.get $c) (i32.const 1024))))

  (func $place_food
    (local $c i32)
    (loop $again
      (local.set $c (i32.rem_u (call $rand) (global.get $cells)))
      (br_if $again (call $occupied (local.get $c))))
    (global.set $food (local.get $c))
    (call $draw_cell (local.get $c) (i32.const 0xFF0000)))

  (func $push_head (param $c i32)
    (global.set $head (i32.rem_u (i32.add (global.get $head) (i32.const 1)) (global.get $cells)))
    (i32.store (i32.add (i32.const 2048) (i32.shl (global.get $head) (i32.const 2))) (local.get $c))
    (i32.store8 (i32.add (local.get $c) (i32.const 1024)) (i32.const 1))
    (global.set $len (i32.add (global.get $len) (i32.const 1)))
    (call $draw_cell (local.get $c) (i32.const 0x00FF00)))

  (func $drop_tail
    (local $c i32)
    (local.set $c (i32.load (i32.add (i32.const 2048) (i32.shl
      (i32.rem_u (i32.add (i32.sub (global.get $head) (global.get $len)) (i32.const 577)) (global.get $cells))
      (i32.const 2)))))
    (i32.store8 (i32.add (local.get $c) (i32.const 1024)) (i32.const 0))
    (global.set $len (i32.sub (global.get $len) (i32.const 1)))
    (call $draw_cell (local.get $c) (i32.const 0)))

  ;; Turns to (dx, dy) unless that reverses onto the body.
  (func $turn (param $dx i32) (param $dy i32)
    (if (i32.or (i32.ne (local.get $dx) (i32.sub (i32.const 0) (global.get $dx)))
                (i32.ne (local.get $dy) (i32.sub (i32.const 0) (global.get $dy))))
      (then (global.set $dx (local.get $dx)) (global.set $dy (local.get $dy)))))

  (func $steer (param $k i32)
    (if (i32.or (i32.eq (local.get $k) (i32.const 119)) (i32.eq (local.get $k) (i32.const 0x101)))
      (then (call $turn (i32.const 0) (i32.const -1))))
    (if (i32.or (i32.eq (local.get $k) (i32.const 115)) (i32.eq (local.get $k) (i32.const 0x102)))
      (then (call $turn (i32.const 0) (i32.const 1))))
    (if (i32.or (i32.eq (local.get $k) (i32.const 97)) (i32.eq (local.get $k) (i32.const 0x103)))
      (then (call $turn (i32.const -1) (i32.const 0))))
    (if (i32.or (i32.eq (local.get $k) (i32.const 100)) (i32.eq (local.get $k) (i32.const 0x104)))
      (then (call $turn (i32.const 1) (i32.const 0)))))

  (func $game_over (result i32)
    (call $print (i32.const 32) (i32.const 24))
    (call $print_int (i64.extend_i32_u (global.get $score)))
    (call $print (i32.const 64) (i32.const 1))
    (i32.const 0))

  ;; One step: the next head cell, or -1 when the snake hits a wall or itself.
  (func $step (result i32)
    (local $c i32) (local $x i32) (local $y i32)
    (local.set $c (i32.load (i32.add (i32.const 2048) (i32.shl (global.get $head) (i32.const 2)))))
    (local.set $x (i32.add (i32.rem_u (local.get $c) (global.get $cols)) (global.get $dx)))
    (local.set $y (i32.add (i32.div_u (local.get $c) (global.get $cols)) (global.get $dy)))
    (if (i32.or (i32.ge_u (local.get $x) (global.get $cols)) (i32.ge_u (local.get $y) (global.get $rows)))
      (then (return (i32.const -1))))
    (local.set $c (i32.add (i32.mul (local.get $y) (global.get $cols)) (local.get $x)))
    (if (i32.eq (local.get $c) (global.get $food))
      (then
        (global.set $score (i32.add (global.get $score) (i32.const 1)))
        (call $push_head (local.get $c))
        (call $place_food)
        (return (local.get $c))))
    (call $drop_tail)
    (if (call $occupied (local.get $c)) (then (return (i32.const -1))))
    (call $push_head (local.get $c))
    (local.get $c))

  (func $main (export "main") (result i32)
    (local $w i32) (local $h i32) (local $k i32)
    (local.set $w (call $fb_width))
    (local.set $h (call $fb_height))
    (if (i32.eqz (local.get $w))
      (then (call $print (i32.const 0) (i32.const 22)) (return (i32.const 1))))
    (global.set $cell (select
      (i32.div_u (local.get $w) (global.get $cols))
      (i32.div_u (local.get $h) (global.get $rows))
      (i32.lt_u (i32.div_u (local.get $w) (global.get $cols)) (i32.div_u (local.get $h) (global.get $rows)))))
    (global.set $seed (i32.or (i32.wrap_i64 (call $uptime)) (i32.const 1)))
    (call $clear (i32.const 0))
    (call $push_head (i32.const 292))
    (call $push_head (i32.const 293))
    (call $push_head (i32.const 294))
    (call $place_food)
    (call $print (i32.const 80) (i32.const 40))
    (loop $tick
      (call $sleep (i32.const 120))
      (block $no_more
        (loop $keys
          (local.set $k (call $key))
          (br_if $no_more (i32.eq (local.get $k) (i32.const -1)))
          (if (i32.eq (local.get $k) (i32.const 113)) (then (return (call $game_over))))
          (call $steer (local.get $k))
          (br $keys)))
      (if (i32.lt_s (call $step) (i32.const 0)) (then (return (call $game_over))))
      (br $tick))
    (unreachable)))
