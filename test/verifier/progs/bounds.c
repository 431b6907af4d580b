/* Scalar bounds and pointer arithmetic: what each ALU operation and each branch teaches the
 * verifier about a value, and which operations a pointer allows at all. The indexes go into an
 * 8-byte array value, so an index is good when it is proven to be in [0, 7]. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

/* r6 = ctx, r0 = the value (never NULL: constant key in range), r1 = an unknown u32. */
#define PROLOGUE "					\
	r6 = r1;					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[vals] ll;				\
	call %[bpf_map_lookup_elem];			\
	r1 = *(u32 *)(r6 + %[mark]);			"
#define INDEX "r0 += r1; r0 = *(u8 *)(r0 + 0); l0_%=: r0 = 0; exit;"
#define OPERANDS __imm_addr(vals), __imm(bpf_map_lookup_elem), __imm_const(mark, offsetof(struct __sk_buff, mark))

/* An unsigned upper bound. */
/* kernel: loads */
SEC("tc")
__naked int bounds_jgt_good(void) { asm volatile (PROLOGUE "if r1 > 7 goto l0_%=;" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_jgt_bad(void) { asm volatile (PROLOGUE "if r1 > 8 goto l0_%=;" INDEX :: OPERANDS); }

/* The bound proven on the taken edge. */
/* kernel: loads */
SEC("tc")
__naked int bounds_jlt_good(void) { asm volatile (PROLOGUE "if r1 < 8 goto l1_%=; goto l0_%=; l1_%=:" INDEX :: OPERANDS); }

/* kernel: R0 min value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_jlt_bad(void) { asm volatile (PROLOGUE "if r1 < 8 goto l0_%=;" INDEX :: OPERANDS); }

/* Bounds between two registers, when the other one is a known constant. */
/* kernel: loads */
SEC("tc")
__naked int bounds_reg_reg_good(void) { asm volatile (PROLOGUE "r2 = 8; if r1 >= r2 goto l0_%=;" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_reg_reg_bad(void) { asm volatile (PROLOGUE "r2 = 9; if r1 >= r2 goto l0_%=;" INDEX :: OPERANDS); }

/* The constant on the left: 8 > r1. */
/* kernel: loads */
SEC("tc")
__naked int bounds_reg_reg_swapped_good(void) { asm volatile (PROLOGUE "r2 = 8; if r2 > r1 goto l1_%=; goto l0_%=; l1_%=:" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_reg_reg_swapped_bad(void) { asm volatile (PROLOGUE "r2 = 9; if r2 > r1 goto l1_%=; goto l0_%=; l1_%=:" INDEX :: OPERANDS); }

/* A signed upper bound leaves the negative half. */
/* kernel: loads */
SEC("tc")
__naked int bounds_signed_good(void) { asm volatile (PROLOGUE "r1 <<= 32; r1 s>>= 32; if r1 s< 0 goto l0_%=; if r1 s> 7 goto l0_%=;" INDEX :: OPERANDS); }

/* kernel: value -2147483648 makes map_value pointer be out of bounds */
SEC("tc")
__naked int bounds_signed_bad(void) { asm volatile (PROLOGUE "r1 <<= 32; r1 s>>= 32; if r1 s> 7 goto l0_%=;" INDEX :: OPERANDS); }

/* An equality check makes a constant. */
/* kernel: loads */
SEC("tc")
__naked int bounds_jeq_good(void) { asm volatile (PROLOGUE "if r1 != 7 goto l0_%=;" INDEX :: OPERANDS); }

/* kernel: R0 unbounded memory access */
SEC("tc")
__naked int bounds_jeq_bad(void) { asm volatile (PROLOGUE "if r1 == 7 goto l0_%=;" INDEX :: OPERANDS); }

/* A bit test's fall-through clears the tested bits: 0xfffffff0 leaves [0, 15], 0xfffffff8 [0, 7]. */
/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_jset_bad(void) { asm volatile (PROLOGUE "if r1 & 0xfffffff0 goto l0_%=;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int bounds_jset_good(void) { asm volatile (PROLOGUE "if r1 & 0xfffffff8 goto l0_%=;" INDEX :: OPERANDS); }

/* Shifting right: 64 - 61 = 3 bits left. */
/* kernel: loads */
SEC("tc")
__naked int bounds_rsh_good(void) { asm volatile (PROLOGUE "r1 <<= 32; r1 >>= 61;" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_rsh_bad(void) { asm volatile (PROLOGUE "r1 <<= 32; r1 >>= 60;" INDEX :: OPERANDS); }

/* An arithmetic shift of a sign-extended byte is negative half of the time. */
/* kernel: R0 min value is negative */
SEC("tc")
__naked int bounds_arsh_bad(void) { asm volatile (PROLOGUE "r1 <<= 61; r1 s>>= 61;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int bounds_arsh_good(void) { asm volatile (PROLOGUE "r1 <<= 61; r1 >>= 61;" INDEX :: OPERANDS); }

/* Multiplication by a constant scales the bounds: [0, 3] * 2 = [0, 6], * 4 = [0, 12]. */
/* kernel: loads */
SEC("tc")
__naked int bounds_mul_good(void) { asm volatile (PROLOGUE "r1 &= 3; r1 *= 2;" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_mul_bad(void) { asm volatile (PROLOGUE "r1 &= 3; r1 *= 4;" INDEX :: OPERANDS); }

/* OR raises the minimum: [0, 3] | 4 = [4, 7], | 8 = [8, 11]. */
/* kernel: loads */
SEC("tc")
__naked int bounds_or_good(void) { asm volatile (PROLOGUE "r1 &= 3; r1 |= 4;" INDEX :: OPERANDS); }

/* kernel: R0 min value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_or_bad(void) { asm volatile (PROLOGUE "r1 &= 3; r1 |= 8;" INDEX :: OPERANDS); }

/* Addition and subtraction move both bounds. */
/* kernel: loads */
SEC("tc")
__naked int bounds_add_sub_good(void) { asm volatile (PROLOGUE "r1 &= 3; r1 += 10; r1 -= 6;" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_add_sub_bad(void) { asm volatile (PROLOGUE "r1 &= 3; r1 += 10; r1 -= 5;" INDEX :: OPERANDS); }

/* Subtracting from a constant: 7 - [0, 7] is [0, 7]; 6 - [0, 7] reaches -1. */
/* kernel: loads */
SEC("tc")
__naked int bounds_rsub_good(void) { asm volatile (PROLOGUE "r1 &= 7; r2 = 7; r2 -= r1; r1 = r2;" INDEX :: OPERANDS); }

/* kernel: R0 min value is negative */
SEC("tc")
__naked int bounds_rsub_bad(void) { asm volatile (PROLOGUE "r1 &= 7; r2 = 6; r2 -= r1; r1 = r2;" INDEX :: OPERANDS); }

/* Negation flips the sign: twice is the identity. */
/* kernel: loads */
SEC("tc")
__naked int bounds_neg_good(void) { asm volatile (PROLOGUE "r1 &= 7; r1 = -r1; r1 = -r1;" INDEX :: OPERANDS); }

/* kernel: R0 min value is negative */
SEC("tc")
__naked int bounds_neg_bad(void) { asm volatile (PROLOGUE "r1 &= 7; r1 = -r1;" INDEX :: OPERANDS); }

/* XOR of two bounded values stays within their bits. */
/* kernel: loads */
SEC("tc")
__naked int bounds_xor_good(void) { asm volatile (PROLOGUE "r1 &= 7; r1 ^= 5;" INDEX :: OPERANDS); }

/* kernel: R0 min value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_xor_bad(void) { asm volatile (PROLOGUE "r1 &= 7; r1 ^= 8;" INDEX :: OPERANDS); }

/* Bounds found on one branch do not hold after the paths join. */
/* kernel: R0 unbounded memory access */
SEC("tc")
__naked int bounds_join_bad(void)
{
	asm volatile (PROLOGUE "r2 = *(u32 *)(r6 + 0); if r2 == 0 goto l1_%=; r1 &= 7; l1_%=:" INDEX :: OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int bounds_join_good(void)
{
	asm volatile (PROLOGUE "r2 = *(u32 *)(r6 + 0); if r2 == 0 goto l1_%=; r1 &= 7; goto l2_%=; l1_%=: r1 &= 3; l2_%=:" INDEX :: OPERANDS);
}

/* A bound learnt on a copy holds for the original (they share an id), and for a copy moved by a
 * constant, shifted by it: r1 = r2 + 1 is in [1, 8] when r2 is in [0, 7]. */
/* kernel: loads */
SEC("tc")
__naked int bounds_copy_good(void) { asm volatile (PROLOGUE "r2 = r1; if r2 > 7 goto l0_%=;" INDEX :: OPERANDS); }

/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int bounds_copy_bad(void) { asm volatile (PROLOGUE "r2 = r1; r2 += 0; r1 += 1; if r2 > 7 goto l0_%=;" INDEX :: OPERANDS); }

/* Pointers allow addition and subtraction of scalars, nothing else. */
/* kernel: R0 pointer arithmetic with *= operator prohibited */
SEC("tc")
__naked int ptr_mul_bad(void) { asm volatile (PROLOGUE "r0 *= 2; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int ptr_mul_good(void) { asm volatile (PROLOGUE "r0 += 2; r0 -= 2; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: R0 bitwise operator &= on pointer prohibited */
SEC("tc")
__naked int ptr_and_bad(void) { asm volatile (PROLOGUE "r0 &= -8; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int ptr_and_good(void) { asm volatile (PROLOGUE "r1 &= -8; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: R0 32-bit pointer arithmetic prohibited */
SEC("tc")
__naked int ptr_alu32_bad(void) { asm volatile (PROLOGUE "w0 += 1; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int ptr_alu32_good(void) { asm volatile (PROLOGUE "r0 += 1; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: R1 pointer += pointer prohibited */
SEC("tc")
__naked int ptr_add_ptr_bad(void) { asm volatile (PROLOGUE "r1 = r10; r1 += r0; r1 = 0;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int ptr_add_ptr_good(void) { asm volatile (PROLOGUE "r1 = r10; r1 += -8; r1 = 0;" INDEX :: OPERANDS); }

/* Subtracting a pointer from a scalar has no meaning. */
/* kernel: R1 tried to subtract pointer from scalar */
SEC("tc")
__naked int ptr_scalar_minus_ptr_bad(void) { asm volatile (PROLOGUE "r1 = 100; r1 -= r0; r1 = 0;" INDEX :: OPERANDS); }

/* Two pointers into the same value subtract to a scalar (root may). */
/* kernel: loads */
SEC("tc")
__naked int ptr_scalar_minus_ptr_good(void) { asm volatile (PROLOGUE "r1 = r0; r1 += 4; r1 -= r0; r1 = 0;" INDEX :: OPERANDS); }

/* A constant so large that the pointer leaves every object. */
/* kernel: math between map_value pointer and 4294967296 is not allowed */
SEC("tc")
__naked int ptr_huge_const_bad(void) { asm volatile (PROLOGUE "r1 = 0xffffffff ll; r1 += 1;" INDEX :: OPERANDS); }

/* kernel: loads */
SEC("tc")
__naked int ptr_huge_const_good(void) { asm volatile (PROLOGUE "r1 = 0xffffffff ll; r1 += 1; r1 >>= 32; r1 += 6;" INDEX :: OPERANDS); }

/* Dereferencing a number. */
/* kernel: R1 invalid mem access 'scalar' */
SEC("tc")
__naked int ptr_deref_scalar_bad(void) { asm volatile ("r1 = 64; r0 = *(u32 *)(r1 + 0); r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int ptr_deref_scalar_good(void) { asm volatile ("r0 = *(u32 *)(r1 + 0); r0 = 0; exit;"); }
