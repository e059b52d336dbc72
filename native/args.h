// Reading a kernel call's arguments straight from Node-API, without allocating: the argument
// handles live in a fixed array on the stack (node-addon-api's CallbackInfo heap-allocates for more
// than six arguments, and most kernels take more). Every read validates; the first failure throws
// a JavaScript error and later reads return harmless defaults, so a binding reads all of its
// arguments, then returns early when !ok().
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

#if defined(__GNUC__)
#define VAEKIT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VAEKIT_PRINTF(fmt, args)
#endif

namespace vaekit {

class Args {
 public:
  static constexpr size_t kMaxArgs = 16;

  Args(napi_env env, napi_callback_info info, const char* kernel);

  bool ok() const { return ok_; }
  napi_env env() const { return env_; }

  // A Float32Array with at least `need` elements (its own byteOffset already applied).
  float* floats(size_t index, const char* name, uint64_t need);
  // As floats(), but null or undefined gives nullptr.
  float* optionalFloats(size_t index, const char* name, uint64_t need);
  // A Uint32Array with at least `need` elements; the optional form takes null as nullptr.
  const uint32_t* uint32s(size_t index, const char* name, uint64_t need);
  const uint32_t* optionalUint32s(size_t index, const char* name, uint64_t need);
  // An Int32Array with at least `need` elements (token ids, sequence lengths); the optional form
  // takes null as nullptr. Its full length goes to *length when given.
  const int32_t* int32s(size_t index, const char* name, uint64_t need, size_t* length = nullptr);
  const int32_t* optionalInt32s(size_t index, const char* name, uint64_t need, size_t* length = nullptr);
  // A Uint8Array with at least `need` elements, or nullptr for null or undefined (masks).
  const uint8_t* optionalBytes(size_t index, const char* name, uint64_t need);
  // A Uint16Array with at least `need` elements (bf16 values as their bits).
  uint16_t* uint16s(size_t index, const char* name, uint64_t need);
  // As uint16s(), but null or undefined (or an absent argument) gives nullptr.
  uint16_t* optionalUint16s(size_t index, const char* name, uint64_t need);
  // A Float64Array with at least `need` elements.
  double* doubles(size_t index, const char* name, uint64_t need);
  // A Uint8Array with at least `need` elements; its full length goes to *length when given.
  const uint8_t* bytes(size_t index, const char* name, uint64_t need, size_t* length = nullptr);
  // The element count of a Float32Array argument (0 after a failure).
  size_t length(size_t index, const char* name);
  // A non-negative integer no larger than INT32_MAX (BLAS takes int sizes).
  uint64_t size(size_t index, const char* name);
  double number(size_t index, const char* name);
  bool flag(size_t index, const char* name);

  // Throws a RangeError "vaekit native <kernel>: <message>" unless an error is already pending.
  void fail(const char* format, ...) VAEKIT_PRINTF(2, 3);

 private:
  napi_value at(size_t index, const char* name);
  // Whether argument `index` is null or undefined (true, with an error pending, when it is missing).
  bool nullish(size_t index, const char* name);
  void failType(const char* name, const char* expected);
  bool typedArray(size_t index, const char* name, napi_typedarray_type expected,
                  const char* expectedName, void** data, size_t* length);
  bool typedArray(size_t index, const char* name, float** data, size_t* length);
  // typedArray() with the length checked against `need`; nullptr after a failure.
  void* typedArray(size_t index, const char* name, napi_typedarray_type expected,
                   const char* expectedName, uint64_t need, size_t* length = nullptr);

  napi_env env_;
  const char* kernel_;
  napi_value argv_[kMaxArgs];
  size_t argc_ = kMaxArgs;
  bool ok_ = true;
};

// The result of a kernel that returns nothing.
napi_value undefinedValue(napi_env env);

}  // namespace vaekit
