/*
 * Dirty-page tracking of guest RAM by write protection (rustos_dbg.machine.dirty).
 *
 * Contract: dp_alloc() maps an anonymous RAM region and registers it with a
 * byte map of one byte per 4 KiB page. dp_arm() clears nothing itself: the
 * caller zeroes the map, then dp_arm() makes the whole region read-only. The
 * first write to each page (by the emulated CPU, by Unicorn's mem_write or by
 * anything else in the process) raises SIGSEGV; the handler marks the page in
 * the map, makes that page writable again and returns, so the write is
 * retried and succeeds. A fault outside every region goes to the handler that
 * was installed before ours. If making a page writable fails (the kernel's
 * limit on mappings), the whole region is made writable and `overflow` set:
 * the caller must then treat every page as written.
 *
 * Code pages: dp_watch_code() marks a page as holding translated code and
 * write-protects it even when the region is not armed. The first write to
 * it also sets `code_written` and stores 0 at the registered stop word (the
 * instruction counter's limit), so the engine stops at its next count and
 * the caller drops the translated code before it can run stale. (Unicorn
 * notices writes to code only through the virtual address the code ran at;
 * a kernel loading a program through another mapping of the same frame is
 * not seen.)
 *
 * The handler only reads the region table and calls mprotect(), which is
 * async-signal-safe. The table is changed only by dp_alloc/dp_release, from
 * one thread at a time (Python's GIL).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define MAX_REGIONS 512

struct region {
    uintptr_t base;          /* 0: a free slot */
    size_t size;
    volatile uint8_t *map;   /* one byte per page: 1 = written since the map was cleared */
    volatile int overflow;   /* 1 = the whole region was made writable */
    volatile uint8_t *code;  /* one byte per page: 1 = holds translated code (or NULL) */
    volatile uint64_t *stop; /* stored 0 when a code page is written (or NULL) */
    volatile int code_written;
};

static struct region regions[MAX_REGIONS];
static struct sigaction previous;

static void on_segv(int sig, siginfo_t *info, void *context) {
    uintptr_t at = (uintptr_t)info->si_addr;
    for (int i = 0; i < MAX_REGIONS; i++) {
        struct region *r = &regions[i];
        if (r->base == 0 || at - r->base >= r->size)
            continue;
        size_t page = (at - r->base) >> PAGE_SHIFT;
        r->map[page] = 1;
        if (r->code != NULL && r->code[page]) {
            r->code[page] = 0;
            r->code_written = 1;
            if (r->stop != NULL)
                *r->stop = 0;
        }
        if (mprotect((void *)(r->base + (page << PAGE_SHIFT)), PAGE_SIZE, PROT_READ | PROT_WRITE) != 0) {
            r->overflow = 1;
            mprotect((void *)r->base, r->size, PROT_READ | PROT_WRITE);
        }
        return;
    }
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);  /* the fault comes again on return and ends the process */
    } else {
        previous.sa_handler(sig);
    }
}

/* Installs the handler unless it is the current one (something may have replaced it). */
int dp_install(void) {
    struct sigaction now;
    if (sigaction(SIGSEGV, NULL, &now) != 0)
        return -1;
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_segv)
        return 0;
    struct sigaction ours = {0};
    ours.sa_sigaction = on_segv;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&ours.sa_mask);
    if (sigaction(SIGSEGV, &ours, &previous) != 0)
        return -1;
    return 0;
}

/* A new region of `size` bytes (a multiple of the page size) and its slot, or -1. */
int dp_alloc(size_t size, uint8_t *map, void **base) {
    if (size == 0 || size % PAGE_SIZE != 0 || dp_install() != 0)
        return -1;
    for (int i = 0; i < MAX_REGIONS; i++) {
        if (regions[i].base != 0)
            continue;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        regions[i].size = size;
        regions[i].map = map;
        regions[i].overflow = 0;
        regions[i].code = NULL;
        regions[i].stop = NULL;
        regions[i].code_written = 0;
        __atomic_store_n(&regions[i].base, (uintptr_t)p, __ATOMIC_SEQ_CST);
        *base = p;
        return i;
    }
    return -1;
}

/* Unregisters and unmaps the region in `slot`. */
void dp_release(int slot) {
    struct region *r = &regions[slot];
    void *p = (void *)r->base;
    __atomic_store_n(&r->base, 0, __ATOMIC_SEQ_CST);
    if (p != NULL)
        munmap(p, r->size);
}

/* Write-protects the whole region (the caller has cleared the map); 0 or -1. */
int dp_arm(int slot) {
    struct region *r = &regions[slot];
    if (dp_install() != 0)
        return -1;
    r->overflow = 0;
    return mprotect((void *)r->base, r->size, PROT_READ);
}

/* Makes the whole region writable again; 0 or -1. */
int dp_disarm(int slot) {
    struct region *r = &regions[slot];
    return mprotect((void *)r->base, r->size, PROT_READ | PROT_WRITE);
}

/* 1 when the region had to be made writable as a whole since dp_arm(). */
int dp_overflow(int slot) {
    return regions[slot].overflow;
}

/* Registers the code-page map (one byte per page) and the stop word of `slot`. */
void dp_code_map(int slot, uint8_t *code, uint64_t *stop) {
    regions[slot].stop = stop;
    regions[slot].code = code;
}

/* Marks `page` as holding translated code and write-protects it; 0 or -1. */
int dp_watch_code(int slot, size_t page) {
    struct region *r = &regions[slot];
    if (r->code == NULL || (page << PAGE_SHIFT) >= r->size || dp_install() != 0)
        return -1;
    r->code[page] = 1;
    return mprotect((void *)(r->base + (page << PAGE_SHIFT)), PAGE_SIZE, PROT_READ);
}

/* 1 when a code page was written since the last call (and clears it). */
int dp_take_code_written(int slot) {
    return __atomic_exchange_n(&regions[slot].code_written, 0, __ATOMIC_SEQ_CST);
}
