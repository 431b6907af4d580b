/* Map-in-map and (with -DPROG_ARRAY) prog_array slots initialised in the object, through
 * __array(values, ...) and relocations in .rel.maps, as libbpf fills them at load. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

#ifdef PROG_ARRAY
int tail(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail },
};

SEC("tc")
int tail(struct __sk_buff *skb)
{
	return 7;
}
#endif

SEC("tc")
int entry(struct __sk_buff *skb)
{
	__u32 k = 0;
	void *inner = bpf_map_lookup_elem(&outer, &k);
	__u32 *v;

	if (!inner)
		return 1;
	v = bpf_map_lookup_elem(inner, &k);
	if (v)
		*v += 1;
#ifdef PROG_ARRAY
	bpf_tail_call(skb, &jumps, 1);
#endif
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
