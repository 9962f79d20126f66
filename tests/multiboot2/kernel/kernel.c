/* The Multiboot2 test kernel's C part: it sets up a TSS and an IDT, prints
 * the Multiboot2 boot information to COM1 (one line per item), takes one
 * int3 through its IDT, and exits through isa-debug-exit (0x10: all went
 * well, QEMU status 33; 0x11 otherwise). */

#include <stdint.h>

#define COM1 0x3f8
#define DEBUG_EXIT 0xf4

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static void serial_init(void) {
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x03);  /* 38400 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);  /* 8N1 */
    outb(COM1 + 4, 0x03);
}

static void putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) {
    }
    outb(COM1, (uint8_t)c);
}

static void puts(const char *s) { while (*s) putc(*s++); }

static void puthex(uint64_t v) {
    puts("0x");
    int started = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        int d = (v >> shift) & 0xf;
        if (d || started || shift == 0) {
            putc("0123456789abcdef"[d]);
            started = 1;
        }
    }
}

static void putdec(uint64_t v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts(buf + i);
}

static void exit_qemu(uint32_t code) {
    outl(DEBUG_EXIT, code);
    for (;;) __asm__ volatile("cli; hlt");
}

/* The 64-bit TSS (Intel SDM Vol. 3A §8.7) and IDT (§6.14.1). */
struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __attribute__((packed)) gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, zero;
};

struct __attribute__((packed)) table_ptr {
    uint16_t limit;
    uint64_t base;
};

extern uint64_t gdt[];
extern volatile uint32_t boot_int3_seen;  /* set by the 32-bit IDT's int3 handler in boot.S */
extern char isr_stubs[];
static struct tss tss;
static struct gate idt[32] __attribute__((aligned(16)));
static uint8_t df_stack[4096] __attribute__((aligned(16)));
static volatile int int3_seen;

static void setup_tss(void) {
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    tss.ist[0] = (uint64_t)(df_stack + sizeof(df_stack));
    tss.iomap_base = sizeof(tss);
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
    gdt[4] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(0x18));
}

static void setup_idt(void) {
    for (int v = 0; v < 32; v++) {
        uint64_t handler = (uint64_t)(isr_stubs + 16 * v);
        idt[v] = (struct gate){(uint16_t)handler, 0x08, v == 8 ? 1 : 0, 0x8e, (uint16_t)(handler >> 16),
                               (uint32_t)(handler >> 32), 0};
    }
    struct table_ptr ptr = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(ptr));
}

struct frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, vector, error_code, rip, cs, rflags, rsp, ss;
};

void isr_handler(struct frame *f) {
    if (f->vector == 3) {
        int3_seen = 1;
        return;
    }
    puts("exception ");
    putdec(f->vector);
    puts(" error ");
    puthex(f->error_code);
    puts(" at ");
    puthex(f->rip);
    puts("\n");
    exit_qemu(0x11);
}

/* Multiboot2 boot information tags (Multiboot2 spec §3.6). */
struct tag { uint32_t type, size; };

static const struct tag *find_tag(const uint8_t *info, uint32_t type, const struct tag *after) {
    uint32_t total = *(const uint32_t *)info;
    const uint8_t *p = after ? (const uint8_t *)after + ((after->size + 7) & ~7u) : info + 8;
    while (p < info + total) {
        const struct tag *t = (const struct tag *)p;
        if (t->type == 0) return 0;
        if (t->type == type) return t;
        p += (t->size + 7) & ~7u;
    }
    return 0;
}

static void print_info(const uint8_t *info) {
    const struct tag *t;
    if ((t = find_tag(info, 1, 0))) { puts("mb2: cmdline '"); puts((const char *)(t + 1)); puts("'\n"); }
    if ((t = find_tag(info, 2, 0))) { puts("mb2: loader '"); puts((const char *)(t + 1)); puts("'\n"); }
    for (t = find_tag(info, 3, 0); t; t = find_tag(info, 3, t)) {
        const uint32_t *m = (const uint32_t *)(t + 1);
        const char *data = (const char *)(uint64_t)m[0];
        puts("mb2: module '");
        puts((const char *)(m + 2));
        puts("' size ");
        putdec(m[1] - m[0]);
        puts(" starts '");
        for (uint32_t i = 0; i < 8 && i < m[1] - m[0]; i++) putc(data[i]);
        puts("' page aligned ");
        puts(m[0] & 0xfff ? "no\n" : "yes\n");
    }
    if ((t = find_tag(info, 4, 0))) {
        const uint32_t *m = (const uint32_t *)(t + 1);
        puts("mb2: meminfo lower ");
        putdec(m[0]);
        puts(" KiB upper ");
        putdec(m[1]);
        puts(" KiB\n");
    }
    if ((t = find_tag(info, 6, 0))) {
        const uint32_t *m = (const uint32_t *)(t + 1);
        uint32_t entry_size = m[0];
        puts("mb2: mmap entry_size ");
        putdec(entry_size);
        puts(" version ");
        putdec(m[1]);
        puts("\n");
        for (const uint8_t *e = (const uint8_t *)(m + 2); e < (const uint8_t *)t + t->size; e += entry_size) {
            puts("mb2: mmap ");
            puthex(*(const uint64_t *)e);
            puts(" len ");
            puthex(*(const uint64_t *)(e + 8));
            puts(" type ");
            putdec(*(const uint32_t *)(e + 16));
            puts("\n");
        }
    }
    if ((t = find_tag(info, 8, 0))) {
        const uint8_t *f = (const uint8_t *)(t + 1);
        puts("mb2: framebuffer ");
        puthex(*(const uint64_t *)f);
        puts(" pitch ");
        putdec(*(const uint32_t *)(f + 8));
        puts(" ");
        putdec(*(const uint32_t *)(f + 12));
        puts("x");
        putdec(*(const uint32_t *)(f + 16));
        puts(" bpp ");
        putdec(f[20]);
        puts(" type ");
        putdec(f[21]);
        puts("\n");
    }
}

void kmain(uint32_t magic, uint64_t info) {
    serial_init();
    puts("mb2: magic ");
    puthex(magic);
    puts("\n");
    if (magic != 0x36d76289) exit_qemu(0x11);
    setup_tss();
    setup_idt();
    puts(boot_int3_seen ? "idt32: int3 handled in 32-bit mode\n" : "idt32: int3 missed\n");
    print_info((const uint8_t *)info);
    __asm__ volatile("int3");
    puts(int3_seen ? "idt: int3 handled\n" : "idt: int3 missed\n");
    puts("mb2: done\n");
    exit_qemu(int3_seen && boot_int3_seen ? 0x10 : 0x11);
}
