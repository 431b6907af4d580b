/* Loops and the complexity limit: the verifier walks a loop iteration by iteration until the
 * state repeats or the loop exits, and gives up after 1,000,000 instructions. */
#include "common.h"

/* A counted loop. */
/* kernel: loads */
SEC("socket")
__naked int loop_bounded_good(void)
{
	asm volatile ("r0 = 0; l0_%=: r0 += 1; if r0 < 100 goto l0_%=; r0 = 0; exit;" ::);
}

/* A counter that only stops when it wraps around: the walk never ends. */
/* kernel: BPF program is too large. Processed 1000001 insn */
SEC("socket")
__naked int loop_bounded_bad(void)
{
	asm volatile ("r0 = 0; l0_%=: r0 += 1; if r0 != 0 goto l0_%=; exit;" ::);
}

/* A jump to itself: the same state twice on the same path. */
/* kernel: infinite loop detected at insn 1 */
SEC("socket")
__naked int loop_self_bad(void)
{
	asm volatile ("r0 = 0; l0_%=: if r0 == 0 goto l0_%=; exit;" ::);
}

/* kernel: loads */
SEC("socket")
__naked int loop_self_good(void)
{
	asm volatile ("r0 = 0; l0_%=: if r0 != 0 goto l0_%=; exit;" ::);
}

/* A loop bounded by a value from the packet's length: up to 4G iterations. */
/* kernel: BPF program is too large. Processed 1000001 insn */
SEC("socket")
int loop_unknown_bound_bad(struct __sk_buff *skb)
{
	__u32 n = skb->len, i, sum = 0;

	for (i = 0; i < n; i++)
		sum += opaque(i);
	return sum & 1;
}

/* kernel: loads */
SEC("socket")
int loop_unknown_bound_good(struct __sk_buff *skb)
{
	__u32 n = skb->len & 31, i, sum = 0;

	for (i = 0; i < n; i++)
		sum += opaque(i);
	return sum & 1;
}

/* A C loop over a fixed count, not unrolled. */
/* kernel: loads */
SEC("socket")
int loop_c_counted_good(struct __sk_buff *skb)
{
	__u32 sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++)
		sum += opaque(i) ^ skb->len;
	return sum & 1;
}

/* The same loop reading a 64-byte stack buffer one byte too far. */
/* kernel: invalid read from stack R3 off=0 size=1 */
SEC("socket")
int loop_c_counted_bad(struct __sk_buff *skb)
{
	char buf[64];
	__u32 sum = 0;

	__builtin_memset(buf, 1, sizeof(buf));
#pragma clang loop unroll(disable)
	for (int i = 0; i <= 64; i++)
		sum += *(volatile char *)(buf + opaque(i));
	return sum & 1;
}

static int loop_body(__u32 i, void *ctx)
{
	return 0;
}

/* bpf_loop verifies the callback once, however many times it runs. */
/* kernel: loads */
SEC("socket")
int loop_bpf_loop_good(struct __sk_buff *skb)
{
	bpf_loop(1 << 20, loop_body, 0, 0);
	return 0;
}

/* The callback argument must be a function. */
/* kernel: R2 type=scalar expected=func */
SEC("socket")
__naked int loop_bpf_loop_bad(void)
{
	asm volatile ("r1 = 4; r2 = 0; r3 = 0; r4 = 0; call %[bpf_loop]; r0 = 0; exit;" :: __imm(bpf_loop));
}
