// libFuzzer's entry for programs that have a main of their own (LLVM 12 and
// later; in compiler-rt's libclang_rt.fuzzer, linked by -sanitize=fuzzer).
// Declared here rather than linked: only a build with -DFUZZING calls it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
