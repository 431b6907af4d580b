/* Shared by the verifier suite: the kernel's uapi, libbpf's helper declarations, and the few
 * macros inline-assembly programs need. Each program is preceded by a comment saying what the
 * kernel's verifier says about it: "kernel: loads", or "kernel: " and a part of its error line.
 * suite.test.ts checks both against the running kernel. */
#ifndef VERIFIER_COMMON_H
#define VERIFIER_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Functions whose body is all assembly: no prologue, registers as the kernel sees them. */
#define __naked __attribute__((naked))
/* Operands of inline assembly: a helper's id, a map's address, a constant. */
#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)
#define __imm_const(name, expr) [name] "i"(expr)

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif

/* Keeps a value opaque to clang, so that it does not fold the check away. */
#define opaque(x) ({ __typeof__(x) __v = (x); asm volatile("" : "+r"(__v)); __v; })

char _license[] SEC("license") = "GPL";

#endif
