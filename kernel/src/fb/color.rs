//! Colours of the `draw` commands: names or 0xRRGGBB.

/// The named colours, full 24-bit.
pub const NAMES: [(&str, u32); 14] = [
    ("black", 0x000000), ("white", 0xFFFFFF), ("red", 0xFF0000), ("green", 0x00FF00),
    ("blue", 0x0000FF), ("yellow", 0xFFFF00), ("cyan", 0x00FFFF), ("magenta", 0xFF00FF),
    ("gray", 0x808080), ("grey", 0x808080), ("orange", 0xFFA500), ("purple", 0x800080),
    ("brown", 0xA52A2A), ("pink", 0xFFC0CB),
];

/// `text` as 0xRRGGBB: a name of [`NAMES`] or `0x` and one to six hex digits.
pub fn parse(text: &str) -> Option<u32> {
    if let Some((_, rgb)) = NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)) {
        return Some(*rgb);
    }
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}
