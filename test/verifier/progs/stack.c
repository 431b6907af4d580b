/* The stack: 512 bytes below r10, accessed through r10 or pointers derived from it, in aligned
 * 8-byte slots that remember a spilled register's type as long as nothing overwrites part of it.
 * As root, uninitialised stack may be read. */
#include "common.h"

/* Above the frame pointer there is nothing of the program's. */
/* kernel: invalid read from stack R10 off=8 size=8 */
SEC("socket")
__naked int stack_above_fp_bad(void)
{
	asm volatile ("r0 = *(u64 *)(r10 + 8); r0 = 0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_above_fp_good(void)
{
	asm volatile ("r0 = 0; *(u64 *)(r10 - 8) = r0; r0 = *(u64 *)(r10 - 8); exit;");
}

/* The same through a derived pointer, whose offset the verifier tracks. */
/* kernel: invalid read from stack R1 off=0 size=8 */
SEC("socket")
__naked int stack_derived_above_bad(void)
{
	asm volatile ("r1 = r10; r1 += -8; r0 = *(u64 *)(r1 + 8); r0 = 0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_derived_above_good(void)
{
	asm volatile ("r1 = r10; r1 += -16; r0 = 0; *(u64 *)(r1 + 8) = r0; r0 = *(u64 *)(r1 + 8); exit;");
}

/* Below the 512 bytes. */
/* kernel: invalid write to stack R10 off=-520 size=8 */
SEC("socket")
__naked int stack_below_limit_bad(void)
{
	asm volatile ("r0 = 0; *(u64 *)(r10 - 520) = r0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_below_limit_good(void)
{
	asm volatile ("r0 = 0; *(u64 *)(r10 - 512) = r0; exit;");
}

/* Stack accesses must be aligned to their size, whatever the architecture allows. */
/* kernel: misaligned stack access off 0+0+-6 size 4 */
SEC("socket")
__naked int stack_misaligned_bad(void)
{
	asm volatile ("r0 = 0; *(u32 *)(r10 - 6) = r0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_misaligned_good(void)
{
	asm volatile ("r0 = 0; *(u32 *)(r10 - 4) = r0; *(u16 *)(r10 - 6) = r0; exit;");
}

/* A spilled pointer can only be filled whole. */
/* kernel: invalid size of register fill */
SEC("socket")
__naked int stack_partial_fill_bad(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r1; r0 = *(u32 *)(r10 - 8); r0 = 0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_partial_fill_good(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r1; r1 = *(u64 *)(r10 - 8); r0 = *(u32 *)(r1 + 0); r0 = 0; exit;");
}

/* Overwriting a byte of a spilled pointer leaves bytes, not a pointer. */
/* kernel: R1 invalid mem access 'scalar' */
SEC("socket")
__naked int stack_spill_clobbered_bad(void)
{
	asm volatile ("					\
	*(u64 *)(r10 - 8) = r1;				\
	r2 = 0;						\
	*(u8 *)(r10 - 8) = r2;				\
	r1 = *(u64 *)(r10 - 8);				\
	r0 = *(u32 *)(r1 + 0);				\
	r0 = 0;						\
	exit;						\
");
}

/* kernel: loads */
SEC("socket")
__naked int stack_spill_clobbered_good(void)
{
	asm volatile ("					\
	*(u64 *)(r10 - 8) = r1;				\
	r2 = 0;						\
	*(u8 *)(r10 - 16) = r2;				\
	r1 = *(u64 *)(r10 - 8);				\
	r0 = *(u32 *)(r1 + 0);				\
	r0 = 0;						\
	exit;						\
");
}

/* As root an uninitialised slot reads as an unknown scalar: fine as data, not as a pointer. */
/* kernel: R1 invalid mem access 'scalar' */
SEC("socket")
__naked int stack_uninit_deref_bad(void)
{
	asm volatile ("r1 = *(u64 *)(r10 - 8); r0 = *(u32 *)(r1 + 0); r0 = 0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_uninit_deref_good(void)
{
	asm volatile ("r1 = *(u64 *)(r10 - 8); r0 = r1; r0 &= 1; exit;");
}

/* A variable-offset write must stay inside the stack for every offset it may have. */
/* kernel: invalid variable-offset write to stack R2 */
SEC("socket")
__naked int stack_var_off_write_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[len]);			\
	r2 &= 31;					\
	r2 += -16;					\
	r2 += r10;					\
	r0 = 0;						\
	*(u8 *)(r2 + 0) = r0;				\
	exit;						\
"	:: __imm_const(len, offsetof(struct __sk_buff, len)));
}

/* kernel: loads */
SEC("socket")
__naked int stack_var_off_write_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[len]);			\
	r2 &= 15;					\
	r2 += -16;					\
	r2 += r10;					\
	r0 = 0;						\
	*(u8 *)(r2 + 0) = r0;				\
	exit;						\
"	:: __imm_const(len, offsetof(struct __sk_buff, len)));
}

/* A variable-offset read below the frame. */
/* kernel: invalid variable-offset read from stack R2 */
SEC("socket")
__naked int stack_var_off_read_bad(void)
{
	asm volatile ("					\
	r0 = 0;						\
	*(u64 *)(r10 - 8) = r0;				\
	*(u64 *)(r10 - 16) = r0;			\
	r2 = *(u32 *)(r1 + %[len]);			\
	r2 &= 15;					\
	r2 += -20;					\
	r2 += r10;					\
	r0 = *(u8 *)(r2 + 12);				\
	exit;						\
"	:: __imm_const(len, offsetof(struct __sk_buff, len)));
}

/* kernel: loads */
SEC("socket")
__naked int stack_var_off_read_good(void)
{
	asm volatile ("					\
	r0 = 0;						\
	*(u64 *)(r10 - 8) = r0;				\
	*(u64 *)(r10 - 16) = r0;			\
	r2 = *(u32 *)(r1 + %[len]);			\
	r2 &= 15;					\
	r2 += -16;					\
	r2 += r10;					\
	r0 = *(u8 *)(r2 + 0);				\
	exit;						\
"	:: __imm_const(len, offsetof(struct __sk_buff, len)));
}

/* A helper's buffer on the stack must fit in the frame. */
/* kernel: invalid write to stack R1 off=-8 size=16 */
SEC("kprobe/do_nanosleep")
__naked int stack_helper_buf_bad(void)
{
	asm volatile ("					\
	r3 = r1;					\
	r1 = r10;					\
	r1 += -8;					\
	r2 = 16;					\
	call %[bpf_probe_read_kernel];			\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel));
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
__naked int stack_helper_buf_good(void)
{
	asm volatile ("					\
	r3 = r1;					\
	r1 = r10;					\
	r1 += -16;					\
	r2 = 16;					\
	call %[bpf_probe_read_kernel];			\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel));
}

/* A spilled scalar keeps its bounds: a masked index survives the round trip through the stack. */
/* kernel: loads */
SEC("socket")
__naked int stack_spill_bounds_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[len]);			\
	r2 &= 7;					\
	*(u64 *)(r10 - 8) = r2;				\
	r0 = 0;						\
	*(u64 *)(r10 - 16) = r0;			\
	r3 = *(u64 *)(r10 - 8);				\
	r4 = r10;					\
	r4 += -16;					\
	r4 += r3;					\
	r0 = *(u8 *)(r4 + 0);				\
	exit;						\
"	:: __imm_const(len, offsetof(struct __sk_buff, len)));
}

/* A byte written over the spilled scalar turns the slot into plain bytes: the bounds are lost. */
/* kernel: math between fp pointer and register with unbounded min value is not allowed */
SEC("socket")
__naked int stack_spill_bounds_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[len]);			\
	r2 &= 7;					\
	*(u64 *)(r10 - 8) = r2;				\
	r0 = 0;						\
	*(u64 *)(r10 - 16) = r0;			\
	*(u8 *)(r10 - 1) = r0;				\
	r3 = *(u64 *)(r10 - 8);				\
	r4 = r10;					\
	r4 += -16;					\
	r4 += r3;					\
	r0 = *(u8 *)(r4 + 0);				\
	exit;						\
"	:: __imm_const(len, offsetof(struct __sk_buff, len)));
}

/* The frame pointer itself never changes. */
/* kernel: frame pointer is read only */
SEC("socket")
__naked int stack_fp_write_bad(void)
{
	asm volatile ("r10 = 0; r0 = 0; exit;");
}

/* kernel: loads */
SEC("socket")
__naked int stack_fp_write_good(void)
{
	asm volatile ("r1 = r10; r1 += -8; r0 = 0; exit;");
}
