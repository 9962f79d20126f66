//! The shell's graphics commands: `draw rect|line|circle|clear ...` (the first
//! switches to the framebuffer) and `fb [on|off]`.

use crate::fb;
use rustos_core::parse::parse_dec;

const DRAW_USAGE: &str = "usage: draw rect X Y W H COLOR | line X1 Y1 X2 Y2 COLOR | circle CX CY R COLOR | clear [COLOR]";

/// `draw SHAPE ARGS COLOR`: numbers in decimal, COLOR a name or 0xRRGGBB.
pub fn draw(args: &str) {
    let mut words = args.split_whitespace();
    let shape = words.next().unwrap_or("");
    let rest: alloc::vec::Vec<&str> = words.collect();
    let arity = match shape {
        "rect" => 4,
        "line" => 4,
        "circle" => 3,
        "clear" => 0,
        _ => return println!("error: draw: {}", DRAW_USAGE),
    };
    let colour_word = match (shape, rest.len()) {
        ("clear", 0) => None,
        (_, n) if n == arity + 1 => Some(rest[arity]),
        _ => return println!("error: draw: {}", DRAW_USAGE),
    };
    let mut n = [0i64; 4];
    for (i, word) in rest.iter().take(arity).enumerate() {
        match parse_dec(word) {
            Some(v) if v <= 65535 => n[i] = v as i64,
            _ => return println!("error: draw: '{}' is not a number (0-65535)", word),
        }
    }
    let rgb = match colour_word.map(fb::color::parse) {
        None => 0,
        Some(Some(rgb)) => rgb,
        Some(None) => return println!("error: draw: unknown colour '{}' (a name or 0xRRGGBB)", colour_word.unwrap_or("")),
    };
    if let Err(e) = fb::enable() {
        return println!("error: draw: {}", e.message());
    }
    let (w, h) = (fb::width() as i64, fb::height() as i64);
    let on = |x: i64, y: i64| x < w && y < h;
    let fits = match shape {
        "rect" => n[2] > 0 && n[3] > 0 && n[0] + n[2] <= w && n[1] + n[3] <= h,
        "line" => on(n[0], n[1]) && on(n[2], n[3]),
        "circle" => on(n[0], n[1]) && n[2] <= w.max(h),
        _ => true,
    };
    if !fits {
        return println!("error: draw: {} outside the {}x{} screen", shape, w, h);
    }
    fb::set_owner(fb::Owner::Shell);
    match shape {
        "rect" => fb::fill_rect(n[0], n[1], n[2], n[3], rgb),
        "line" => fb::line(n[0], n[1], n[2], n[3], rgb),
        "circle" => fb::circle(n[0], n[1], n[2], rgb),
        _ => fb::clear(rgb),
    }
}

/// `fb`: the framebuffer's state; `fb on` / `fb off`.
pub fn fb_cmd(args: &str) {
    match args {
        "" => {
            // Copied out: printing goes through the framebuffer console, which takes the lock.
            let i = fb::info();
            if i.mode == 0 {
                println!("fb: off (VGA text)");
            } else {
                println!("fb: {}x{}x{}, pitch {}, LFB at {:#x} (mapped at {:#x})", i.width, i.height, i.bpp, i.pitch, i.lfb_phys, i.lfb_virt);
            }
        }
        "on" => {
            if let Err(e) = fb::enable() {
                println!("error: fb: {}", e.message());
            }
        }
        "off" => fb::disable(),
        _ => println!("error: fb: usage: fb [on|off]"),
    }
}
