//! The user programs built into the kernel image (`kernel/user/`, built by
//! `scripts/build-kernel` and embedded by `build.rs`): the fallback `run`
//! uses only when no disk answers (the programs live on the disk; see
//! `process::spawn`).

/// A program's name and ELF image.
pub struct Program {
    /// The name `run` and `spawn` take.
    pub name: &'static str,
    /// The ELF file (empty when the kernel was built without the user programs).
    pub image: &'static [u8],
}

macro_rules! programs {
    ($($name:literal),*) => {
        /// Every embedded program.
        pub const PROGRAMS: &[Program] = &[
            $(Program { name: $name, image: include_bytes!(concat!(env!("OUT_DIR"), "/user/", $name)) },)*
        ];
    };
}

programs!("hello", "spin", "nullderef");

/// The program called `name`.
pub fn find(name: &str) -> Option<&'static Program> {
    PROGRAMS.iter().find(|p| p.name == name)
}
