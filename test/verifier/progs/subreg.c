/* 32-bit subregisters: ALU32 results are zero-extended, 32-bit jumps bound the low half only,
 * and a 32-bit copy of a pointer is a number. Indexes go into an 8-byte array value. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

/* r6 = ctx, r0 = the value, r1 = a full 64-bit unknown (the time). */
#define PROLOGUE "					\
	r6 = r1;					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[vals] ll;				\
	call %[bpf_map_lookup_elem];			\
	r7 = r0;					\
	call %[bpf_ktime_get_ns];			\
	r1 = r0;					\
	r0 = r7;					"
#define INDEX "r0 += r1; r0 = *(u8 *)(r0 + 0); l0_%=: r0 = 0; exit;"
#define OPERANDS __imm_addr(vals), __imm(bpf_map_lookup_elem), __imm(bpf_ktime_get_ns)

/* A 32-bit comparison bounds the low half; the high half of a 64-bit value stays unknown. */
/* kernel: math between map_value pointer and register with unbounded min value is not allowed */
SEC("tc")
__naked int subreg_jmp32_bad(void) { asm volatile (PROLOGUE "if w1 > 7 goto l0_%=;" INDEX :: OPERANDS); }

/* After a 32-bit move the high half is zero, so the same comparison bounds it all. */
/* kernel: loads */
SEC("tc")
__naked int subreg_jmp32_good(void) { asm volatile (PROLOGUE "w1 = w1; if w1 > 7 goto l0_%=;" INDEX :: OPERANDS); }

/* Zero extension alone still leaves 32 unknown bits. */
/* kernel: R0 unbounded memory access */
SEC("tc")
__naked int subreg_zext_bad(void) { asm volatile (PROLOGUE "w1 += 0;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int subreg_zext_good(void) { asm volatile (PROLOGUE "w1 &= 7;" INDEX :: OPERANDS); }

/* -1 in a 32-bit register is 0xffffffff in the 64-bit one. */
/* kernel: math between map_value pointer and 4294967295 is not allowed */
SEC("tc")
__naked int subreg_minus_one_bad(void) { asm volatile (PROLOGUE "w1 = -1;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int subreg_minus_one_good(void) { asm volatile (PROLOGUE "w1 = -1; w1 += 1;" INDEX :: OPERANDS); }

/* A 32-bit add wraps in 32 bits: 0xffffffff + 1 = 0; the 64-bit add does not. */
/* kernel: math between map_value pointer and 4294967296 is not allowed */
SEC("tc")
__naked int subreg_wrap_bad(void) { asm volatile (PROLOGUE "w1 = -1; r1 += 1;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int subreg_wrap_good(void) { asm volatile (PROLOGUE "w1 = -1; w1 += 1;" INDEX :: OPERANDS); }

/* The high half of a zero-extended 32-bit value shifted down is zero. */
/* kernel: loads */
SEC("tc")
__naked int subreg_high_half_good(void) { asm volatile (PROLOGUE "w1 = w1; r1 >>= 32;" INDEX :: OPERANDS); }

/* kernel: R0 unbounded memory access */
SEC("tc")
__naked int subreg_high_half_bad(void) { asm volatile (PROLOGUE "r1 >>= 32;" INDEX :: OPERANDS); }

/* 32-bit signed bounds: a w-register below 8 and not negative as s32. */
/* kernel: loads */
SEC("tc")
__naked int subreg_signed32_good(void) { asm volatile (PROLOGUE "w1 = w1; if w1 s< 0 goto l0_%=; if w1 s> 7 goto l0_%=;" INDEX :: OPERANDS); }

/* Only the signed upper bound: as u32 the value may be 0x80000000 and more. */
/* kernel: R0 unbounded memory access */
SEC("tc")
__naked int subreg_signed32_bad(void) { asm volatile (PROLOGUE "w1 = w1; if w1 s> 7 goto l0_%=;" INDEX :: OPERANDS); }

/* A 32-bit copy of a pointer is just a number (as root; unprivileged it would be refused). */
/* kernel: R2 invalid mem access 'scalar' */
SEC("tc")
__naked int subreg_ptr_copy_bad(void) { asm volatile ("w2 = w1; r0 = *(u32 *)(r2 + 0); r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int subreg_ptr_copy_good(void) { asm volatile ("r2 = r1; r0 = *(u32 *)(r2 + 0); r0 = 0; exit;"); }

/* A 32-bit load from the context is already zero-extended: its 32-bit bound is a 64-bit one. */
/* kernel: loads */
SEC("tc")
__naked int subreg_ldx32_good(void)
{
	asm volatile (PROLOGUE "r1 = *(u32 *)(r6 + %[mark]); if w1 > 7 goto l0_%=;" INDEX :: OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* A 64-bit bound says nothing more than the jump: > 8 lets 8 through. */
/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int subreg_ldx32_bad(void)
{
	asm volatile (PROLOGUE "r1 = *(u32 *)(r6 + %[mark]); if w1 > 8 goto l0_%=;" INDEX :: OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}
