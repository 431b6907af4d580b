/* A stand-in "kernel" BTF for CO-RE tests. By default two flavors of task_struct that disagree on
 * where pid is (ambiguity); with -DONLY_V2 a single task_struct without tgid or comm (poisoning).
 * Built with -g only for its .BTF. */
#ifndef ONLY_V2
struct task_struct { long state; int pid; };
struct task_struct *a;
#endif
struct task_struct___v2 { int pid; };
struct task_struct___v2 *b;
