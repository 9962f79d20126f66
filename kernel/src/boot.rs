//! The boot path: PVH note, 32-bit entry, long mode, and the 64-bit entry.
//!
//! Contract (docs/boot.md): a PVH loader (QEMU `-kernel`) enters `pvh_start32`
//! in 32-bit protected mode with paging off and `ebx` = physical address of the
//! `hvm_start_info`. `pvh_start32` switches to long mode and jumps to
//! `pvh_start64`, which is also the entry for a loader that starts the CPU in
//! long mode already (QEMU and the rustos-dbg emulator both enter `pvh_start32`
//! and run the switch to long mode): it needs IA-32e mode, a 64-bit
//! code segment, the boot section identity-mapped, interrupts off, and `rdi` =
//! physical address of the `hvm_start_info`. `pvh_start64` loads the kernel's
//! boot GDT and boot page tables, moves to the higher-half boot stack and calls
//! [`crate::kernel_main`].
//!
//! Boot page tables: PML4[0] and PML4[256] (the physical-memory window at
//! `PHYS_OFFSET`) both map the first 1 GiB with 2 MiB pages; PML4[511] maps
//! `KERNEL_BASE` to physical 0 for 1 GiB. The kernel replaces them in
//! `memory::init`.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 8
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %edi
    lgdt (boot_gdt_ptr)
    mov %cr4, %eax
    or $0x20, %eax                  /* CR4.PAE */
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx           /* IA32_EFER */
    rdmsr
    or $0x900, %eax                 /* LME | NXE */
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax            /* PG | WP | PE */
    mov %eax, %cr0
    ljmp $0x08, $pvh_start64

    .code64
    .global pvh_start64
pvh_start64:
    cli
    cld
    mov %edi, %edi                  /* hvm_start_info is below 4 GiB */
    lgdt boot_gdt_ptr(%rip)
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea boot_pml4(%rip), %rax
    mov %rax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    mov %cr0, %rax
    or $0x10000, %eax               /* CR0.WP */
    mov %rax, %cr0
    movabs $(RUSTOS_MAIN_STACK + {stack_end}), %rsp
    xor %ebp, %ebp
    push $0x08
    movabs $kernel_entry, %rax
    push %rax
    lretq

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit ring-0 code */
    .quad 0x00cf92000000ffff        /* 0x10: ring-0 data */
boot_gdt_end:
    .balign 8
    .word 0
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .balign 4096
    .global boot_pml4
boot_pml4:
    .quad boot_pdpt_low + 3
    .fill 255, 8, 0
    .quad boot_pdpt_low + 3
    .fill 254, 8, 0
    .quad boot_pdpt_high + 3
boot_pdpt_low:
    .quad boot_pd + 3
    .fill 511, 8, 0
boot_pdpt_high:
    .fill 510, 8, 0
    .quad boot_pd + 3
    .quad 0
boot_pd:
    .set boot_pd_i, 0
    .rept 512
    .quad (boot_pd_i << 21) | 0x83
    .set boot_pd_i, boot_pd_i + 1
    .endr

    .section .text.kernel_entry, "ax"
    .global kernel_entry
kernel_entry:
    /* The outermost frame: no return address, so a debugger's backtrace ends here. */
    .cfi_sections .debug_frame
    .cfi_startproc
    .cfi_undefined 16
    call {main}
1:  cli
    hlt
    jmp 1b
    .cfi_endproc
    "#,
    main = sym crate::kernel_main,
    stack_end = const crate::stacks::MAIN_STACK_END,
    options(att_syntax)
);
