#pragma once
// Heap allocation counting for the microbenchmarks and the instruction-count driver.
//
// Linking alloc_counter.cc into an executable replaces every form of the global operator new and
// delete (plain, array, nothrow, aligned, sized) with versions that forward to malloc/free and
// count each allocation. The count covers the whole process, including libraries that allocate
// through operator new (libstdc++, simdjson); plain malloc calls are not seen. Link the .cc
// directly into the executable (not through a static library): the linker would otherwise be
// free to keep the default operator new.
//
// Threading: the counter is a relaxed atomic, so readings are exact when only the measuring
// thread allocates (Google Benchmark's single-threaded runs, the driver).

#include <cstdint>

namespace instant::bench {

// Allocations (operator new calls of any form) since the process started.
uint64_t AllocationCount();

}  // namespace instant::bench
