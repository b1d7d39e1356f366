#pragma once
// Readers for /proc: CPU seconds and RSS of a process (the server, the workers), kernel slab.
// All return a negative value when the file cannot be read (process gone, no such pid).

namespace instant::bench {

// utime + stime of all threads of `pid`, in seconds (clock-tick resolution, 10 ms here).
double ProcessCpuSeconds(int pid);
// Time the threads of `pid` spent runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat,
// second field), in seconds. Shows CPU contention directly, whoever caused it.
double ProcessRunqueueWaitSeconds(int pid);
// VmRSS of `pid` in KiB.
long ProcessRssKb(int pid);
// "Slab:" of /proc/meminfo in KiB (kernel memory, includes socket structures).
long SlabKb();
// Machine-wide busy CPU seconds from /proc/stat (user+nice+system+irq+softirq, all CPUs) and
// the hypervisor's steal time. Used to tell whether something else ran during a measurement.
struct MachineCpu {
  double busy_s = -1;
  double steal_s = -1;
};
MachineCpu MachineCpuSeconds();
// user + sys of this process (RUSAGE_SELF), seconds.
double SelfCpuSeconds();
// user + sys of waited-for children (RUSAGE_CHILDREN), seconds.
double ChildrenCpuSeconds();

}  // namespace instant::bench
