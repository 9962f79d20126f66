/* The Multiboot2 test kernel's header and boot path (see README.md here).
 * A Multiboot2 loader enters _start in 32-bit protected mode, paging off,
 * eax = 0x36d76289, ebx = the boot information. _start builds page tables
 * that identity-map the first GiB with 2 MiB pages, enables long mode, loads
 * its GDT and far-jumps to 64-bit code, which calls kmain(magic, info). */

    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long 0xe85250d6                        /* magic */
    .long 0                                 /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header       /* header_length */
    .long -(0xe85250d6 + (mb2_header_end - mb2_header))
    .balign 8
    .short 1, 0                             /* information request */
    .long 8 + 4 * 6
    .long 1, 2, 3, 4, 6, 8                  /* cmdline, loader name, modules, meminfo, mmap, framebuffer */
    .balign 8
    .short 0, 0                             /* end */
    .long 8
mb2_header_end:

    .section .text.boot, "ax"
    .code32
    .global _start
_start:
    cli
    cld
    mov $stack_top, %esp
    mov %eax, %edi
    mov %ebx, %esi
    mov $isr32_bp, %eax                     /* the 32-bit IDT's gate 3 */
    mov %ax, idt32 + 3 * 8
    shr $16, %eax
    mov %ax, idt32 + 3 * 8 + 6
    mov %cs, %ax
    mov %ax, idt32 + 3 * 8 + 2
    movb $0x8e, idt32 + 3 * 8 + 5           /* present, DPL 0, 32-bit interrupt gate */
    lidt idt32_ptr
    int3
    mov $pdpt + 3, %eax
    mov %eax, pml4
    mov $pd + 3, %eax
    mov %eax, pdpt
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, pd(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax                          /* PAE */
    mov %eax, %cr4
    mov $0xC0000080, %ecx                   /* IA32_EFER */
    rdmsr
    or $0x100, %eax                         /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax                    /* PG | PE */
    mov %eax, %cr0
    lgdt gdt_ptr
    ljmp $0x08, $long_mode

isr32_bp:
    movl $1, boot_int3_seen
    iret

    .code64
long_mode:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
    mov %edi, %edi                          /* upper halves are undefined after the switch */
    mov %esi, %esi
    mov $stack_top, %esp
    xor %ebp, %ebp
    call kmain
2:  cli
    hlt
    jmp 2b

/* Exception entry: vectors 0-31, each pushing an error code (0 when the CPU
 * pushes none) and its vector, then the caller-saved registers. */
    .macro stub vector
    .balign 16
    .if \vector == 8 || (\vector >= 10 && \vector <= 14) || \vector == 17
    .else
    push $0
    .endif
    push $\vector
    jmp isr_common
    .endm

    .text
    .balign 16
    .global isr_stubs
isr_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    stub \v
    .endr

isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov %rsp, %rdi
    call isr_handler
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp
    iretq

    .data
    .balign 8
    .global boot_int3_seen
boot_int3_seen:
    .long 0
idt32:
    .fill 32 * 8, 1, 0
    .balign 8
    .short 0
idt32_ptr:
    .short 32 * 8 - 1
    .long idt32
    .balign 8
    .global gdt
gdt:
    .quad 0
    .quad 0x00af9a000000ffff                /* 0x08: 64-bit ring-0 code */
    .quad 0x00cf92000000ffff                /* 0x10: ring-0 data */
    .quad 0, 0                              /* 0x18: the TSS, filled in by kmain */
gdt_end:
    .balign 8
    .short 0
gdt_ptr:
    .short gdt_end - gdt - 1
    .long gdt

    .bss
    .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096
    .skip 16384
stack_top:
    .section .note.GNU-stack, "", @progbits
