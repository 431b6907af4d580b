/* Registers that were never written, and instructions the verifier refuses whatever the values:
 * division by a zero immediate, unknown opcodes and helpers, unreachable code. */
#include "common.h"

/* kernel: R2 !read_ok */
SEC("socket")
__naked int uninit_reg_bad(void) { asm volatile ("r0 = r2; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int uninit_reg_good(void) { asm volatile ("r2 = 1; r0 = r2; exit;" ::); }

/* The program's return value must be set. */
/* kernel: R0 !read_ok */
SEC("socket")
__naked int uninit_r0_bad(void) { asm volatile ("r1 = 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int uninit_r0_good(void) { asm volatile ("r0 = 0; exit;" ::); }

/* A helper call leaves r1-r5 unreadable. */
/* kernel: R1 !read_ok */
SEC("socket")
__naked int uninit_after_call_bad(void) { asm volatile ("call %[bpf_get_prandom_u32]; r0 = r1; exit;" :: __imm(bpf_get_prandom_u32)); }

/* kernel: loads */
SEC("socket")
__naked int uninit_after_call_good(void) { asm volatile ("r6 = r1; call %[bpf_get_prandom_u32]; r0 = r6; r0 = 0; exit;" :: __imm(bpf_get_prandom_u32)); }

/* Written on one path only. */
/* kernel: R3 !read_ok */
SEC("socket")
__naked int uninit_one_path_bad(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); if r2 == 0 goto l0_%=; r3 = 1; l0_%=: r0 = r3; exit;" ::);
}

/* kernel: loads */
SEC("socket")
__naked int uninit_one_path_good(void)
{
	asm volatile ("r3 = 0; r2 = *(u32 *)(r1 + 0); if r2 == 0 goto l0_%=; r3 = 1; l0_%=: r0 = r3; exit;" ::);
}

/* A store of a register nobody wrote. */
/* kernel: R4 !read_ok */
SEC("socket")
__naked int uninit_store_bad(void) { asm volatile ("*(u64 *)(r10 - 8) = r4; r0 = 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int uninit_store_good(void) { asm volatile ("r4 = 0; *(u64 *)(r10 - 8) = r4; r0 = 0; exit;" ::); }

/* Only r1 (the context) and r10 are set at entry. */
/* kernel: R5 !read_ok */
SEC("socket")
__naked int uninit_entry_regs_bad(void) { asm volatile ("r0 = *(u32 *)(r5 + 0); r0 = 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int uninit_entry_regs_good(void) { asm volatile ("r0 = *(u32 *)(r1 + 0); r0 = 0; exit;" ::); }

/* Division by a zero immediate is refused; by a register that holds zero it is defined (0). */
/* kernel: div by zero */
SEC("socket")
__naked int div_imm_zero_bad(void) { asm volatile ("r0 = 1; r0 /= 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int div_imm_zero_good(void) { asm volatile ("r0 = 1; r1 = 0; r0 /= r1; exit;" ::); }

/* kernel: div by zero */
SEC("socket")
__naked int mod_imm_zero_bad(void) { asm volatile ("r0 = 1; r0 %%= 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int mod_imm_zero_good(void) { asm volatile ("r0 = 1; r0 %%= 3; exit;" ::); }

/* kernel: div by zero */
SEC("socket")
__naked int div32_imm_zero_bad(void) { asm volatile ("w0 = 1; w0 /= 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int div32_imm_zero_good(void) { asm volatile ("w0 = 1; w1 = 0; w0 /= w1; exit;" ::); }

/* Code after the last exit that no jump reaches. */
/* kernel: unreachable insn 2 */
SEC("socket")
__naked int cfg_unreachable_bad(void) { asm volatile ("r0 = 0; exit; r0 = 1; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int cfg_unreachable_good(void) { asm volatile ("r0 = 0; if r1 == 0 goto l0_%=; r0 = 1; l0_%=: exit;" ::); }

/* A jump past the end of the program (encoded by hand: the assembler would not). */
/* kernel: jump out of range from insn 1 to 9 */
SEC("socket")
__naked int cfg_jump_out_bad(void) { asm volatile ("r0 = 0; .8byte 0x0000000000070005; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int cfg_jump_out_good(void) { asm volatile ("r0 = 0; .8byte 0x0000000000000005; exit;" ::); }

/* An opcode that does not exist (class ALU64, operation 0xf0). */
/* kernel: unknown opcode f7 */
SEC("socket")
__naked int insn_unknown_opcode_bad(void) { asm volatile ("r0 = 0; .8byte 0x00000000000000f7; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int insn_unknown_opcode_good(void) { asm volatile ("r0 = 0; .8byte 0x00000000000000b7; exit;" ::); }

/* A helper id the kernel does not have. */
/* kernel: invalid func unknown#100000 */
SEC("socket")
__naked int insn_unknown_helper_bad(void) { asm volatile ("call 100000; r0 = 0; exit;" ::); }

/* kernel: loads */
SEC("socket")
__naked int insn_unknown_helper_good(void) { asm volatile ("call %[bpf_ktime_get_ns]; r0 = 0; exit;" :: __imm(bpf_ktime_get_ns)); }

/* A helper this program type may not call. */
/* kernel: program of this type cannot use helper bpf_skb_store_bytes#9 */
SEC("xdp")
__naked int insn_helper_type_bad(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; r4 = 1; r5 = 0; *(u64 *)(r10 - 8) = r5; call %[bpf_skb_store_bytes]; r0 = 2; exit;" :: __imm(bpf_skb_store_bytes));
}

/* kernel: loads */
SEC("tc")
__naked int insn_helper_type_good(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; r4 = 1; r5 = 0; *(u64 *)(r10 - 8) = r5; call %[bpf_skb_store_bytes]; r0 = 0; exit;" :: __imm(bpf_skb_store_bytes));
}
