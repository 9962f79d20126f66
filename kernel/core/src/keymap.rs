//! Scancode set 1 to keys, US QWERTY, on top of the `pc-keyboard` crate.
//!
//! [`KeyDecoder`] takes raw bytes from the PS/2 data port, one at a time, and
//! yields a [`Key`] when a key press completes a character or a navigation key.
//! Shift, caps lock and ctrl are tracked by the decoder; ctrl with a letter
//! gives the ASCII control character (ctrl-c is `'\u{3}'`).

use pc_keyboard::{layouts, DecodedKey, HandleControl, KeyCode, Keyboard, ScancodeSet1};

/// A decoded key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character, including `'\n'`, `'\u{8}'` (backspace) and control characters.
    Char(char),
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
}

/// Decodes a stream of set-1 scancode bytes.
pub struct KeyDecoder {
    keyboard: Keyboard<layouts::Us104Key, ScancodeSet1>,
}

impl KeyDecoder {
    /// A decoder with no modifier held.
    pub fn new() -> Self {
        KeyDecoder { keyboard: Keyboard::new(ScancodeSet1::new(), layouts::Us104Key, HandleControl::MapLettersToUnicode) }
    }

    /// Feeds one scancode byte; returns the key it completes, if any.
    pub fn feed(&mut self, byte: u8) -> Option<Key> {
        let event = self.keyboard.add_byte(byte).ok()??;
        match self.keyboard.process_keyevent(event)? {
            DecodedKey::Unicode('\r') => Some(Key::Char('\n')),
            DecodedKey::Unicode(c) => Some(Key::Char(c)),
            DecodedKey::RawKey(KeyCode::ArrowUp) => Some(Key::Up),
            DecodedKey::RawKey(KeyCode::ArrowDown) => Some(Key::Down),
            DecodedKey::RawKey(KeyCode::ArrowLeft) => Some(Key::Left),
            DecodedKey::RawKey(KeyCode::ArrowRight) => Some(Key::Right),
            DecodedKey::RawKey(_) => None,
        }
    }
}

impl Default for KeyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Key> {
        let mut d = KeyDecoder::new();
        bytes.iter().filter_map(|&b| d.feed(b)).collect()
    }

    #[test]
    fn letters_and_enter() {
        // h, i, Enter: make and break codes.
        assert_eq!(decode(&[0x23, 0xA3, 0x17, 0x97, 0x1C, 0x9C]), vec![Key::Char('h'), Key::Char('i'), Key::Char('\n')]);
    }

    #[test]
    fn shift_and_caps_lock() {
        // Left shift down, a, shift up, a; then caps lock, a.
        let keys = decode(&[0x2A, 0x1E, 0x9E, 0xAA, 0x1E, 0x9E, 0x3A, 0xBA, 0x1E, 0x9E]);
        assert_eq!(keys, vec![Key::Char('A'), Key::Char('a'), Key::Char('A')]);
        // Shift + 1 is '!'.
        assert_eq!(decode(&[0x2A, 0x02, 0x82, 0xAA]), vec![Key::Char('!')]);
    }

    #[test]
    fn ctrl_and_arrows() {
        // Left ctrl down, c, ctrl up.
        assert_eq!(decode(&[0x1D, 0x2E, 0xAE, 0x9D]), vec![Key::Char('\u{3}')]);
        assert_eq!(decode(&[0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0x4B, 0xE0, 0xCB]), vec![Key::Up, Key::Left]);
    }

    #[test]
    fn backspace() {
        assert_eq!(decode(&[0x0E, 0x8E]), vec![Key::Char('\u{8}')]);
    }
}
