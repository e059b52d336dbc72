// Scratch files mapped into memory (src/io/mapped.ts): a file's bytes as an ArrayBuffer whose
// pages the kernel reads in when they are touched and writes back to the file when memory is short,
// so that data larger than memory (a long time series) lives in the page cache instead of the heap.
// The file is reserved on disk first (posix_fallocate), so that a full disk is an error here rather
// than a SIGBUS when a page is first written.
#include <node_api.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "args.h"
#include "bindings.h"

namespace vaekit {

#if !defined(_WIN32)
namespace {

void Unmap(napi_env env, void* data, void* hint) {
  const size_t length = static_cast<size_t>(reinterpret_cast<uintptr_t>(hint));
  munmap(data, length);
  int64_t total = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(length), &total);
}

}  // namespace
#endif

// mapFile(fd, bytes): the first `bytes` bytes of the open file `fd` (read and write, shared with the
// file), after reserving them on disk; unmapped when the ArrayBuffer is collected. Throws an Error
// naming the system's reason ("No space left on device") when the space or the mapping is refused.
napi_value MapFile(napi_env env, napi_callback_info info) {
  Args args(env, info, "mapFile");
  const double fd = args.number(0, "fd");
  const double bytes = args.number(1, "bytes");
  if (!args.ok()) return nullptr;
  if (!(fd >= 0 && fd <= INT32_MAX && fd == static_cast<int>(fd)) || !(bytes >= 1 && bytes <= 9007199254740991.0 && bytes == static_cast<double>(static_cast<uint64_t>(bytes)))) {
    args.fail("fd must be an open file and bytes a whole number >= 1");
    return nullptr;
  }
#if defined(_WIN32)
  napi_throw_error(env, nullptr, "mapping files into memory is not supported on Windows");
  return nullptr;
#else
  const size_t length = static_cast<size_t>(bytes);
  const int reserved = posix_fallocate(static_cast<int>(fd), 0, static_cast<off_t>(length));
  if (reserved != 0) {
    napi_throw_error(env, nullptr, std::strerror(reserved));
    return nullptr;
  }
  void* data = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
  if (data == MAP_FAILED) {
    napi_throw_error(env, nullptr, std::strerror(errno));
    return nullptr;
  }
  napi_value result;
  if (napi_create_external_arraybuffer(env, data, length, Unmap, reinterpret_cast<void*>(static_cast<uintptr_t>(length)), &result) != napi_ok) {
    munmap(data, length);
    napi_throw_error(env, nullptr, "Node refused an external ArrayBuffer");
    return nullptr;
  }
  // Counted as external memory, so that the garbage collector weighs what it holds and collects an
  // array no longer used (unmapping it, which frees its file's disk space) as it would a heap one.
  int64_t total = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(length), &total);
  return result;
#endif
}

// adviseMapped(buffer, offset, bytes, advice): advice to the system about bytes [offset, offset +
// bytes) of a mapped ArrayBuffer (madvise): 0 normal (a page fault reads the pages around the page
// too, good for passes in order), 1 random (a fault reads that page alone: a shuffled pass would throw
// the rest away), 2 will need (start reading those pages from the file now, while the caller goes
// on). Advice only: a failure is ignored, and a range past the buffer is cut to it.
napi_value AdviseMapped(napi_env env, napi_callback_info info) {
  Args args(env, info, "adviseMapped");
  const double offset = args.number(1, "offset");
  const double bytes = args.number(2, "bytes");
  const double advice = args.number(3, "advice");
  if (!args.ok()) return nullptr;
  void* data = nullptr;
  size_t length = 0;
  napi_value buffer;
  size_t argc = 1;
  if (napi_get_cb_info(env, info, &argc, &buffer, nullptr, nullptr) != napi_ok || napi_get_arraybuffer_info(env, buffer, &data, &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "vaekit native adviseMapped: buffer must be an ArrayBuffer");
    return nullptr;
  }
#if !defined(_WIN32)
  if (offset >= 0 && bytes > 0 && offset < static_cast<double>(length) && (advice == 0 || advice == 1 || advice == 2)) {
    const size_t from = static_cast<size_t>(offset);
    const size_t to = static_cast<size_t>(std::min(static_cast<double>(length), offset + bytes));
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t start = (reinterpret_cast<uintptr_t>(data) + from) & ~(page - 1);
    const uintptr_t end = reinterpret_cast<uintptr_t>(data) + to;
    madvise(reinterpret_cast<void*>(start), end - start, advice == 0 ? MADV_NORMAL : advice == 1 ? MADV_RANDOM : MADV_WILLNEED);
  }
#endif
  return nullptr;
}

}  // namespace vaekit
