#include "proc_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace instant::bench {

namespace {

// Reads a small /proc file into buf; returns its length or -1.
long ReadSmallFile(const char* path, char* buf, size_t cap) {
  FILE* f = fopen(path, "re");
  if (!f) return -1;
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return static_cast<long>(n);
}

long FieldKb(const char* text, const char* key) {
  const char* p = strstr(text, key);
  if (!p) return -1;
  return strtol(p + strlen(key), nullptr, 10);
}

double RusageSeconds(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

double ProcessCpuSeconds(int pid) {
  char path[64];
  char buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (ReadSmallFile(path, buf, sizeof buf) <= 0) return -1;
  // Fields after the last ')' (comm may hold spaces): state is field 3; utime 14, stime 15.
  const char* p = strrchr(buf, ')');
  if (!p) return -1;
  ++p;
  unsigned long long utime = 0, stime = 0;
  if (sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessRunqueueWaitSeconds(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR* dir = opendir(path);
  if (!dir) return -1;
  unsigned long long sum = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char file[320];
    char buf[128];
    snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", pid, e->d_name);
    if (ReadSmallFile(file, buf, sizeof buf) <= 0) continue;
    unsigned long long on_cpu = 0, waited = 0;
    if (sscanf(buf, "%llu %llu", &on_cpu, &waited) == 2) sum += waited;
  }
  closedir(dir);
  return static_cast<double>(sum) / 1e9;
}

long ProcessRssKb(int pid) {
  char path[64];
  char buf[8192];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (ReadSmallFile(path, buf, sizeof buf) <= 0) return -1;
  return FieldKb(buf, "VmRSS:");
}

long SlabKb() {
  char buf[8192];
  if (ReadSmallFile("/proc/meminfo", buf, sizeof buf) <= 0) return -1;
  return FieldKb(buf, "\nSlab:");
}

MachineCpu MachineCpuSeconds() {
  char buf[4096];
  MachineCpu m;
  if (ReadSmallFile("/proc/stat", buf, sizeof buf) <= 0) return m;
  unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait, &irq, &softirq,
             &steal) != 8) {
    return m;
  }
  double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  m.busy_s = static_cast<double>(user + nice + sys + irq + softirq) / tick;
  m.steal_s = static_cast<double>(steal) / tick;
  return m;
}

double SelfCpuSeconds() { return RusageSeconds(RUSAGE_SELF); }
double ChildrenCpuSeconds() { return RusageSeconds(RUSAGE_CHILDREN); }

}  // namespace instant::bench
