/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "dev-error.h"
#include "dev-log.h"
#include "dev-program.h"

/* ---- Instruction macros ------------------------------------------------ */

#define INSN(c, d, s, o, i) \
        ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define ALU64_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU64_REG(op, d, s) INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
/* 32-bit move: zero-extends, so MOV32_IMM(r, -1) is 0x00000000ffffffff. */
#define MOV32_IMM(d, i) INSN(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define LDX_MEM(sz, d, s, o) INSN(BPF_LDX | (sz) | BPF_MEM, d, s, o, 0)
#define STX_MEM(sz, d, s, o) INSN(BPF_STX | (sz) | BPF_MEM, d, s, o, 0)
#define ST_MEM(sz, d, o, i) INSN(BPF_ST | (sz) | BPF_MEM, d, 0, o, i)
#define ATOMIC_ADD64(d, s, o) INSN(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, o, BPF_ADD)
#define CALL(fn) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

/* ---- A tiny assembler with forward labels -------------------------------- */

enum {
        L_TYPE_OK, L_NEXT2, L_NEXT3, L_NEXT4, L_DENY_NONE,
        L_DENY1, L_DENY2, L_DENY3, L_DENY4, L_DENY,
        L_COUNT_INC, L_TOTALS, L_OUT,
        L_MAX
};

typedef struct Asm {
        struct bpf_insn *insns;
        int n;
        int label[L_MAX];
        int fix_at[64];
        int fix_label[64];
        int n_fix;
} Asm;

static void emit(Asm *a, struct bpf_insn insn) {
        if (a->n < DEV_PROGRAM_MAX_INSNS)
                a->insns[a->n] = insn;
        a->n++;
}

static void emit_ld_map(Asm *a, int reg, int fd) {
        emit(a, INSN(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, fd));
        emit(a, INSN(0, 0, 0, 0, 0));
}

/* A conditional (or, with op BPF_JA, unconditional) jump to a label. */
static void emit_jmp(Asm *a, uint8_t op, int reg, int32_t imm, int label) {
        if (a->n_fix < (int) (sizeof(a->fix_at) / sizeof(a->fix_at[0]))) {
                a->fix_at[a->n_fix] = a->n;
                a->fix_label[a->n_fix++] = label;
        }
        emit(a, INSN(BPF_JMP | op | BPF_K, op == BPF_JA ? 0 : reg, 0, 0, op == BPF_JA ? 0 : imm));
}

static void emit_jmp_reg(Asm *a, uint8_t op, int dst, int src, int label) {
        if (a->n_fix < (int) (sizeof(a->fix_at) / sizeof(a->fix_at[0]))) {
                a->fix_at[a->n_fix] = a->n;
                a->fix_label[a->n_fix++] = label;
        }
        emit(a, INSN(BPF_JMP | op | BPF_X, dst, src, 0, 0));
}

static void bind(Asm *a, int label) {
        a->label[label] = a->n;
}

static int resolve(Asm *a) {
        if (a->n > DEV_PROGRAM_MAX_INSNS || a->n_fix >= (int) (sizeof(a->fix_at) / sizeof(a->fix_at[0])))
                return -E2BIG;
        for (int i = 0; i < a->n_fix; i++) {
                int target = a->label[a->fix_label[i]];
                if (target < 0)
                        return -EINVAL;
                a->insns[a->fix_at[i]].off = (int16_t) (target - a->fix_at[i] - 1);
        }
        return a->n;
}

/* ---- The program ------------------------------------------------------- */

/* Registers kept across helper calls: r6 context, r7 device type, r8
 * requested access, r9 shift of the type's field in the value (0 block,
 * 8 char), later the deciding level on the deny path. */

/* Looks up the key at fp-8; an entry present for the type jumps to its
 * decision, anything else falls through to `next`. */
static void emit_level(Asm *a, const DevProgramMaps *maps, int deny_label, int next_label) {
        emit_ld_map(a, R1, maps->rules_fd);
        emit(a, MOV64_REG(R2, R10));
        emit(a, ALU64_IMM(BPF_ADD, R2, -8));
        emit(a, CALL(BPF_FUNC_map_lookup_elem));
        emit_jmp(a, BPF_JEQ, R0, 0, next_label);
        emit(a, LDX_MEM(BPF_W, R1, R0, 0));
        emit(a, ALU64_REG(BPF_RSH, R1, R9));
        emit(a, MOV64_REG(R2, R1));
        emit(a, ALU64_IMM(BPF_AND, R2, 8));
        emit_jmp(a, BPF_JEQ, R2, 0, next_label);
        emit(a, ALU64_IMM(BPF_AND, R1, 7));
        emit(a, MOV64_REG(R2, R8));
        emit(a, ALU64_REG(BPF_AND, R2, R1));
        emit_jmp_reg(a, BPF_JNE, R2, R8, deny_label);
        emit(a, MOV64_IMM(R0, 1));
        emit(a, EXIT());
}

/* The deny path with logging: r1 holds the deciding entry's mask, r9 the
 * level.  Every byte of the event is written. */
static void emit_log(Asm *a, const DevProgramMaps *maps) {
        const int ev = DEV_LOG_EVENT_STACK_OFF, key = DEV_LOG_KEY_STACK_OFF;

        emit(a, STX_MEM(BPF_B, R10, R1, ev + (int) offsetof(DevLogEvent, entry_mask)));
        emit(a, STX_MEM(BPF_B, R10, R9, ev + (int) offsetof(DevLogEvent, level)));
        emit(a, STX_MEM(BPF_B, R10, R7, ev + (int) offsetof(DevLogEvent, type)));
        emit(a, STX_MEM(BPF_B, R10, R8, ev + (int) offsetof(DevLogEvent, access)));
        emit(a, ST_MEM(BPF_W, R10, ev + (int) offsetof(DevLogEvent, reserved), 0));
        emit(a, LDX_MEM(BPF_W, R1, R6, 4));
        emit(a, STX_MEM(BPF_W, R10, R1, ev + (int) offsetof(DevLogEvent, major)));
        emit(a, STX_MEM(BPF_W, R10, R1, key + (int) offsetof(DevLogCountKey, major)));
        emit(a, LDX_MEM(BPF_W, R1, R6, 8));
        emit(a, STX_MEM(BPF_W, R10, R1, ev + (int) offsetof(DevLogEvent, minor)));
        emit(a, STX_MEM(BPF_W, R10, R1, key + (int) offsetof(DevLogCountKey, minor)));
        emit(a, STX_MEM(BPF_B, R10, R7, key + (int) offsetof(DevLogCountKey, type)));
        emit(a, STX_MEM(BPF_B, R10, R8, key + (int) offsetof(DevLogCountKey, access)));
        emit(a, ST_MEM(BPF_H, R10, key + (int) offsetof(DevLogCountKey, reserved), 0));
        emit(a, CALL(BPF_FUNC_ktime_get_boot_ns));
        emit(a, STX_MEM(BPF_DW, R10, R0, ev + (int) offsetof(DevLogEvent, boot_ns)));
        emit(a, CALL(BPF_FUNC_get_current_cgroup_id));
        emit(a, STX_MEM(BPF_DW, R10, R0, ev + (int) offsetof(DevLogEvent, cgroup_id)));
        emit(a, CALL(BPF_FUNC_get_current_pid_tgid));
        emit(a, ALU64_IMM(BPF_RSH, R0, 32));
        emit(a, STX_MEM(BPF_W, R10, R0, ev + (int) offsetof(DevLogEvent, tgid)));
        emit(a, CALL(BPF_FUNC_get_current_uid_gid));
        emit(a, STX_MEM(BPF_W, R10, R0, ev + (int) offsetof(DevLogEvent, uid)));
        emit(a, MOV64_REG(R1, R10));
        emit(a, ALU64_IMM(BPF_ADD, R1, ev + (int) offsetof(DevLogEvent, comm)));
        emit(a, MOV64_IMM(R2, sizeof(((DevLogEvent *) 0)->comm)));
        emit(a, CALL(BPF_FUNC_get_current_comm));
        emit_ld_map(a, R1, maps->log_fd);
        emit(a, MOV64_REG(R2, R10));
        emit(a, ALU64_IMM(BPF_ADD, R2, ev));
        emit(a, MOV64_IMM(R3, sizeof(DevLogEvent)));
        emit(a, MOV64_IMM(R4, 0));
        emit(a, CALL(BPF_FUNC_ringbuf_output));
        emit(a, MOV64_REG(R9, R0));            /* 0, or the ring was full */

        /* Per-device counter: add 1, creating the entry on first use. */
        emit_ld_map(a, R1, maps->denied_fd);
        emit(a, MOV64_REG(R2, R10));
        emit(a, ALU64_IMM(BPF_ADD, R2, key));
        emit(a, CALL(BPF_FUNC_map_lookup_elem));
        emit_jmp(a, BPF_JNE, R0, 0, L_COUNT_INC);
        emit(a, ST_MEM(BPF_DW, R10, DEV_LOG_ONE_STACK_OFF, 1));
        emit_ld_map(a, R1, maps->denied_fd);
        emit(a, MOV64_REG(R2, R10));
        emit(a, ALU64_IMM(BPF_ADD, R2, key));
        emit(a, MOV64_REG(R3, R10));
        emit(a, ALU64_IMM(BPF_ADD, R3, DEV_LOG_ONE_STACK_OFF));
        emit(a, MOV64_IMM(R4, BPF_NOEXIST));
        emit(a, CALL(BPF_FUNC_map_update_elem));
        emit_jmp(a, BPF_JEQ, R0, 0, L_TOTALS);
        /* Another CPU created it first: add to that one. */
        emit_ld_map(a, R1, maps->denied_fd);
        emit(a, MOV64_REG(R2, R10));
        emit(a, ALU64_IMM(BPF_ADD, R2, key));
        emit(a, CALL(BPF_FUNC_map_lookup_elem));
        emit_jmp(a, BPF_JEQ, R0, 0, L_TOTALS);
        bind(a, L_COUNT_INC);
        emit(a, MOV64_IMM(R1, 1));
        emit(a, ATOMIC_ADD64(R0, R1, 0));

        /* Totals: slot 0 of the array, {denied, dropped}. */
        bind(a, L_TOTALS);
        emit(a, ST_MEM(BPF_W, R10, DEV_LOG_SLOT_STACK_OFF, DEV_LOG_TOTALS_SLOT));
        emit_ld_map(a, R1, maps->totals_fd);
        emit(a, MOV64_REG(R2, R10));
        emit(a, ALU64_IMM(BPF_ADD, R2, DEV_LOG_SLOT_STACK_OFF));
        emit(a, CALL(BPF_FUNC_map_lookup_elem));
        emit_jmp(a, BPF_JEQ, R0, 0, L_OUT);
        emit(a, MOV64_IMM(R1, 1));
        emit(a, ATOMIC_ADD64(R0, R1, (int) offsetof(DevLogTotals, denied)));
        emit_jmp(a, BPF_JEQ, R9, 0, L_OUT);
        emit(a, ATOMIC_ADD64(R0, R1, (int) offsetof(DevLogTotals, dropped)));
        bind(a, L_OUT);
        emit(a, MOV64_IMM(R0, 0));
        emit(a, EXIT());
}

int dev_program_build(const DevProgramMaps *maps, struct bpf_insn insns[static DEV_PROGRAM_MAX_INSNS]) {
        Asm a = { .insns = insns };
        bool logging = maps->log_fd >= 0;

        for (int i = 0; i < L_MAX; i++)
                a.label[i] = -1;

        emit(&a, MOV64_REG(R6, R1));
        emit(&a, LDX_MEM(BPF_W, R7, R6, 0));              /* access_type */
        emit(&a, MOV64_REG(R8, R7));
        emit(&a, ALU64_IMM(BPF_RSH, R8, 16));             /* requested access */
        emit(&a, ALU64_IMM(BPF_AND, R7, 0xffff));         /* device type */
        emit(&a, MOV64_IMM(R9, 0));
        emit_jmp(&a, BPF_JEQ, R7, BPF_DEVCG_DEV_BLOCK, L_TYPE_OK);
        emit(&a, MOV64_IMM(R9, 8));
        emit_jmp(&a, BPF_JNE, R7, BPF_DEVCG_DEV_CHAR, L_DENY_NONE);
        bind(&a, L_TYPE_OK);

        /* Level 1: major:minor. */
        emit(&a, LDX_MEM(BPF_W, R1, R6, 4));
        emit(&a, ALU64_IMM(BPF_LSH, R1, 32));
        emit(&a, LDX_MEM(BPF_W, R2, R6, 8));
        emit(&a, ALU64_REG(BPF_OR, R1, R2));
        emit(&a, STX_MEM(BPF_DW, R10, R1, -8));
        emit_level(&a, maps, L_DENY1, L_NEXT2);
        /* Level 2: major:*. */
        bind(&a, L_NEXT2);
        emit(&a, LDX_MEM(BPF_W, R1, R6, 4));
        emit(&a, ALU64_IMM(BPF_LSH, R1, 32));
        emit(&a, MOV32_IMM(R2, -1));
        emit(&a, ALU64_REG(BPF_OR, R1, R2));
        emit(&a, STX_MEM(BPF_DW, R10, R1, -8));
        emit_level(&a, maps, L_DENY2, L_NEXT3);
        /* Level 3: *:minor. */
        bind(&a, L_NEXT3);
        emit(&a, MOV32_IMM(R1, -1));
        emit(&a, ALU64_IMM(BPF_LSH, R1, 32));
        emit(&a, LDX_MEM(BPF_W, R2, R6, 8));
        emit(&a, ALU64_REG(BPF_OR, R1, R2));
        emit(&a, STX_MEM(BPF_DW, R10, R1, -8));
        emit_level(&a, maps, L_DENY3, L_NEXT4);
        /* Level 4: *:*. */
        bind(&a, L_NEXT4);
        emit(&a, MOV64_IMM(R1, -1));                       /* sign-extends: all ones */
        emit(&a, STX_MEM(BPF_DW, R10, R1, -8));
        emit_level(&a, maps, L_DENY4, L_DENY_NONE);

        /* Deny paths: r9 = deciding level, r1 = its mask (0 for none). */
        bind(&a, L_DENY_NONE);
        emit(&a, MOV64_IMM(R1, 0));
        emit(&a, MOV64_IMM(R9, 0));
        emit_jmp(&a, BPF_JA, 0, 0, L_DENY);
        bind(&a, L_DENY1);
        emit(&a, MOV64_IMM(R9, 1));
        emit_jmp(&a, BPF_JA, 0, 0, L_DENY);
        bind(&a, L_DENY2);
        emit(&a, MOV64_IMM(R9, 2));
        emit_jmp(&a, BPF_JA, 0, 0, L_DENY);
        bind(&a, L_DENY3);
        emit(&a, MOV64_IMM(R9, 3));
        emit_jmp(&a, BPF_JA, 0, 0, L_DENY);
        bind(&a, L_DENY4);
        emit(&a, MOV64_IMM(R9, 4));
        bind(&a, L_DENY);
        if (logging)
                emit_log(&a, maps);
        else {
                emit(&a, MOV64_IMM(R0, 0));
                emit(&a, EXIT());
        }
        return resolve(&a);
}

int dev_program_load(const DevProgramMaps *maps, DevError *reterr) {
        struct bpf_insn insns[DEV_PROGRAM_MAX_INSNS];
        int n = dev_program_build(maps, insns);
        int fd;

        if (n < 0)
                return dev_error_set(reterr, n, "device program: cannot assemble: %m");
        fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, DEV_PROGRAM_NAME, "GPL", insns, (size_t) n, NULL);
        if (fd >= 0)
                return fd;
        /* Load again with the verifier log, only to explain the refusal. */
        int err = -errno;
        size_t log_size = 64 * 1024;
        char *log = calloc(1, log_size);
        if (log) {
                LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = (uint32_t) log_size,
                            .log_level = 1);
                fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, DEV_PROGRAM_NAME, "GPL", insns, (size_t) n,
                                   &opts);
                if (fd >= 0) {
                        free(log);
                        return fd;
                }
                size_t len = strlen(log);
                while (len > 0 && log[len - 1] == '\n')
                        log[--len] = '\0';
                const char *tail = len > 300 ? log + len - 300 : log;
                dev_error_set(reterr, err, "device program: kernel refused to load it: %m; verifier: %s", tail);
                free(log);
                return err;
        }
        return dev_error_set(reterr, err, "device program: kernel refused to load it: %m");
}
