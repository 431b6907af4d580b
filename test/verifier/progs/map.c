/* Map values: a lookup's result may be NULL until checked (and one check covers every copy of
 * it), accesses stay inside value_size for every value a variable offset may take, and keys and
 * values passed to helpers point at enough readable memory. */
#include "common.h"

struct val8 {
	__u32 a;
	__u32 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct val8);
} arr8 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} hash8 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[256]);
} arr256 SEC(".maps");

const volatile __u32 rodata_limit = 7;

#define LOOKUP_ARR8 "					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr8] ll;				\
	call %[bpf_map_lookup_elem];			"
#define LOOKUP_OPERANDS __imm_addr(arr8), __imm(bpf_map_lookup_elem)

/* A hash lookup, which may always find nothing. */
#define LOOKUP_HASH8 "					\
	r1 = 0;						\
	*(u64 *)(r10 - 8) = r1;				\
	r2 = r10;					\
	r2 += -8;					\
	r1 = %[hash8] ll;				\
	call %[bpf_map_lookup_elem];			"
#define HASH_OPERANDS __imm_addr(hash8), __imm(bpf_map_lookup_elem)

/* kernel: R0 invalid mem access 'map_value_or_null' */
SEC("tc")
__naked int map_null_check_bad(void)
{
	asm volatile (LOOKUP_HASH8 "r0 = *(u32 *)(r0 + 0); exit;" :: HASH_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_null_check_good(void)
{
	asm volatile (LOOKUP_HASH8 "if r0 == 0 goto l0_%=; r0 = *(u32 *)(r0 + 0); l0_%=: exit;" :: HASH_OPERANDS);
}

/* The same mistake in C: the result of a hash lookup is used as is. */
/* kernel: invalid mem access 'map_value_or_null' */
SEC("tc")
int map_null_check_c_bad(struct __sk_buff *skb)
{
	__u64 key = skb->mark;
	__u64 *v = bpf_map_lookup_elem(&hash8, &key);

	return *opaque(v) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int map_null_check_c_good(struct __sk_buff *skb)
{
	__u64 key = skb->mark;
	__u64 *v = bpf_map_lookup_elem(&hash8, &key);

	return v && *v ? TC_ACT_SHOT : TC_ACT_OK;
}

/* A copy made before the check is checked with it (both carry the lookup's id). */
/* kernel: loads */
SEC("tc")
__naked int map_null_copy_good(void)
{
	asm volatile (LOOKUP_HASH8 "r6 = r0; if r0 == 0 goto l0_%=; r0 = *(u32 *)(r6 + 4); l0_%=: exit;" :: HASH_OPERANDS);
}

/* Two lookups: checking the first says nothing about the second. */
/* kernel: R7 invalid mem access 'map_value_or_null' */
SEC("tc")
__naked int map_null_copy_bad(void)
{
	asm volatile (LOOKUP_HASH8 "r6 = r0;" LOOKUP_HASH8 "r7 = r0; r0 = 0; if r6 == 0 goto l0_%=; r0 = *(u32 *)(r7 + 4); l0_%=: exit;" :: HASH_OPERANDS);
}

/* Arithmetic on a maybe-NULL value is refused before the check. */
/* kernel: R0 pointer arithmetic on map_value_or_null prohibited, null-check it first */
SEC("tc")
__naked int map_null_arith_bad(void)
{
	asm volatile (LOOKUP_HASH8 "r0 += 4; if r0 == 0 goto l0_%=; r0 = *(u32 *)(r0 + 0); l0_%=: r0 = 0; exit;" :: HASH_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_null_arith_good(void)
{
	asm volatile (LOOKUP_HASH8 "if r0 == 0 goto l0_%=; r0 += 4; r0 = *(u32 *)(r0 + 0); l0_%=: r0 = 0; exit;" :: HASH_OPERANDS);
}

/* A fixed offset past the end of the value. */
/* kernel: invalid access to map value, value_size=8 off=8 size=4 */
SEC("tc")
__naked int map_off_end_bad(void)
{
	asm volatile (LOOKUP_ARR8 "if r0 == 0 goto l0_%=; r0 = *(u32 *)(r0 + 8); l0_%=: r0 = 0; exit;" :: LOOKUP_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_off_end_good(void)
{
	asm volatile (LOOKUP_ARR8 "if r0 == 0 goto l0_%=; r0 = *(u32 *)(r0 + 4); l0_%=: r0 = 0; exit;" :: LOOKUP_OPERANDS);
}

/* An access that starts inside the value and ends past it. */
/* kernel: invalid access to map value, value_size=8 off=4 size=8 */
SEC("tc")
__naked int map_straddle_bad(void)
{
	asm volatile (LOOKUP_ARR8 "if r0 == 0 goto l0_%=; r1 = 1; *(u64 *)(r0 + 4) = r1; l0_%=: r0 = 0; exit;" :: LOOKUP_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_straddle_good(void)
{
	asm volatile (LOOKUP_ARR8 "if r0 == 0 goto l0_%=; r1 = 1; *(u64 *)(r0 + 0) = r1; l0_%=: r0 = 0; exit;" :: LOOKUP_OPERANDS);
}

/* Before the value. */
/* kernel: invalid access to map value, value_size=8 off=-4 size=4 */
SEC("tc")
__naked int map_off_negative_bad(void)
{
	asm volatile (LOOKUP_ARR8 "if r0 == 0 goto l0_%=; r0 = *(u32 *)(r0 - 4); l0_%=: r0 = 0; exit;" :: LOOKUP_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_off_negative_good(void)
{
	asm volatile (LOOKUP_ARR8 "if r0 == 0 goto l0_%=; r0 += 4; r0 = *(u32 *)(r0 - 4); l0_%=: r0 = 0; exit;" :: LOOKUP_OPERANDS);
}

/* An index that is never below 8 in an 8-byte value: even the smallest offset is out. */
/* kernel: R0 min value is outside of the allowed memory range */
SEC("tc")
__naked int map_min_outside_bad(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 &= 3;					\
	r1 += 8;					\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* kernel: loads */
SEC("tc")
__naked int map_min_outside_good(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 &= 3;					\
	r1 += 4;					\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* An index masked to [0, 15] in an 8-byte value: the largest offset is out. */
/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
__naked int map_max_outside_bad(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 &= 15;					\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* kernel: loads */
SEC("tc")
__naked int map_max_outside_good(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 &= 7;					\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* An index the program never bounded. */
/* kernel: R0 unbounded memory access, make sure to bounds check any such access */
SEC("tc")
__naked int map_unbounded_bad(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* kernel: loads */
SEC("tc")
__naked int map_unbounded_good(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	if r1 > 7 goto l0_%=;				\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* A signed 32-bit index bounded only from above may be as low as S32_MIN: no pointer may move that far. */
/* kernel: value -2147483648 makes map_value pointer be out of bounds */
SEC("tc")
__naked int map_signed_index_bad(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 <<= 32;					\
	r1 s>>= 32;					\
	if r1 s> 7 goto l0_%=;				\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* kernel: loads */
SEC("tc")
__naked int map_signed_index_good(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 <<= 32;					\
	r1 s>>= 32;					\
	if r1 s> 7 goto l0_%=;				\
	if r1 s< 0 goto l0_%=;				\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* A sign-extended byte bounded only from above may still be negative. */
/* kernel: R0 min value is negative, either use unsigned index or do a if (index >=0) check. */
SEC("tc")
__naked int map_negative_index_bad(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 <<= 56;					\
	r1 s>>= 56;					\
	if r1 s> 7 goto l0_%=;				\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* kernel: loads */
SEC("tc")
__naked int map_negative_index_good(void)
{
	asm volatile ("r6 = r1;" LOOKUP_ARR8 "				\
	r1 = *(u32 *)(r6 + %[mark]);			\
	r1 <<= 56;					\
	r1 s>>= 56;					\
	if r1 s> 7 goto l0_%=;				\
	if r1 s< 0 goto l0_%=;				\
	r0 += r1;					\
	r0 = *(u8 *)(r0 + 0);				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* An array lookup with a constant key below max_entries cannot fail: no NULL check needed. */
/* kernel: loads */
SEC("tc")
__naked int map_array_const_key_good(void)
{
	asm volatile (LOOKUP_ARR8 "r0 = *(u32 *)(r0 + 0); exit;" :: LOOKUP_OPERANDS);
}

/* With a key at max_entries it can. */
/* kernel: R0 invalid mem access 'map_value_or_null' */
SEC("tc")
__naked int map_array_const_key_bad(void)
{
	asm volatile ("					\
	r1 = 4;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr8] ll;				\
	call %[bpf_map_lookup_elem];			\
	r0 = *(u32 *)(r0 + 0);				\
	exit;						\
"	:: LOOKUP_OPERANDS);
}

/* The same in C, with a 256-byte value and a byte-wide index from the packet. */
/* kernel: loads */
SEC("tc")
int map_byte_index_good(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 zero = 0;
	char *v = bpf_map_lookup_elem(&arr256, &zero);

	if (!v || data + 1 > end)
		return TC_ACT_OK;
	return v[data[0]];
}

/* Two bytes read at an index that reaches 255: the last one is at 256. */
/* kernel: R0 max value is outside of the allowed memory range */
SEC("tc")
int map_byte_index_bad(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 zero = 0;
	char *v = bpf_map_lookup_elem(&arr256, &zero);

	if (!v || data + 1 > end)
		return TC_ACT_OK;
	return *(__u16 *)(v + data[0]);
}

/* Global data in .rodata is frozen: the program may read it, never write it. */
/* kernel: write into map forbidden */
SEC("tc")
int map_rodata_write_bad(struct __sk_buff *skb)
{
	*(volatile __u32 *)&rodata_limit = skb->mark;
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int map_rodata_write_good(struct __sk_buff *skb)
{
	return skb->mark > rodata_limit ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The key must point at key_size readable bytes: here 4 of a u64 key stick out of the frame. */
/* kernel: invalid read from stack R2 off=-4 size=8 */
SEC("tc")
__naked int map_key_short_bad(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[hash8] ll;				\
	call %[bpf_map_lookup_elem];			\
	r0 = 0;						\
	exit;						\
"	:: __imm_addr(hash8), __imm(bpf_map_lookup_elem));
}

/* As root the key may even be uninitialised stack: the kernel only checks the bounds. */
/* kernel: loads */
SEC("tc")
__naked int map_key_short_good(void)
{
	asm volatile ("					\
	r2 = r10;					\
	r2 += -8;					\
	r1 = %[hash8] ll;				\
	call %[bpf_map_lookup_elem];			\
	r0 = 0;						\
	exit;						\
"	:: __imm_addr(hash8), __imm(bpf_map_lookup_elem));
}

/* A key must be a pointer. */
/* kernel: R2 type=scalar expected= */
SEC("tc")
__naked int map_key_scalar_bad(void)
{
	asm volatile ("					\
	r2 = 0;						\
	r1 = %[hash8] ll;				\
	call %[bpf_map_lookup_elem];			\
	r0 = 0;						\
	exit;						\
"	:: __imm_addr(hash8), __imm(bpf_map_lookup_elem));
}

/* A map value is as good a key as the stack. */
/* kernel: loads */
SEC("tc")
__naked int map_key_scalar_good(void)
{
	asm volatile (LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r2 = r0;					\
	r1 = %[hash8] ll;				\
	call %[bpf_map_lookup_elem];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS, __imm_addr(hash8));
}

/* An update's value must not be NULL. */
/* kernel: R3 type=map_value_or_null expected= */
SEC("tc")
__naked int map_update_null_value_bad(void)
{
	asm volatile (LOOKUP_HASH8 "				\
	r3 = r0;					\
	r2 = r10;					\
	r2 += -16;					\
	r1 = 0;						\
	*(u64 *)(r10 - 16) = r1;			\
	r4 = 0;						\
	r1 = %[hash8] ll;				\
	call %[bpf_map_update_elem];			\
	r0 = 0;						\
	exit;						\
"	:: HASH_OPERANDS, __imm(bpf_map_update_elem));
}

/* kernel: loads */
SEC("tc")
__naked int map_update_null_value_good(void)
{
	asm volatile (LOOKUP_HASH8 "				\
	if r0 == 0 goto l0_%=;				\
	r3 = r0;					\
	r2 = r10;					\
	r2 += -16;					\
	r1 = 0;						\
	*(u64 *)(r10 - 16) = r1;			\
	r4 = 0;						\
	r1 = %[hash8] ll;				\
	call %[bpf_map_update_elem];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: HASH_OPERANDS, __imm(bpf_map_update_elem));
}

/* Atomic operations need natural alignment, even where plain accesses do not. */
/* kernel: misaligned value access */
SEC("tc")
__naked int map_atomic_misaligned_bad(void)
{
	asm volatile (LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = 1;						\
	lock *(u32 *)(r0 + 2) += r1;			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_atomic_misaligned_good(void)
{
	asm volatile (LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = 1;						\
	lock *(u32 *)(r0 + 4) += r1;			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS);
}

/* The map argument must be a map, not a value looked up in one. */
/* kernel: R1 type=map_value expected=map_ptr */
SEC("tc")
__naked int map_ptr_arg_bad(void)
{
	asm volatile (LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r1 = r0;					\
	r2 = r10;					\
	r2 += -4;					\
	call %[bpf_map_lookup_elem];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS);
}

/* kernel: loads */
SEC("tc")
__naked int map_ptr_arg_good(void)
{
	asm volatile (LOOKUP_ARR8 "				\
	if r0 == 0 goto l0_%=;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[arr8] ll;				\
	call %[bpf_map_lookup_elem];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: LOOKUP_OPERANDS);
}
