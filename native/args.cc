#include "args.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace vaekit {

Args::Args(napi_env env, napi_callback_info info, const char* kernel) : env_(env), kernel_(kernel) {
  if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) {
    argc_ = 0;
    fail("could not read the arguments");
  }
}

void Args::fail(const char* format, ...) {
  if (!ok_) return;
  ok_ = false;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) return;
  char message[256];
  int prefix = std::snprintf(message, sizeof message, "vaekit native %s: ", kernel_);
  if (prefix < 0 || static_cast<size_t>(prefix) >= sizeof message) prefix = 0;
  va_list args;
  va_start(args, format);
  std::vsnprintf(message + prefix, sizeof message - prefix, format, args);
  va_end(args);
  napi_throw_range_error(env_, nullptr, message);
}

void Args::failType(const char* name, const char* expected) {
  if (!ok_) return;
  ok_ = false;
  char message[256];
  std::snprintf(message, sizeof message, "vaekit native %s: %s must be %s", kernel_, name, expected);
  napi_throw_type_error(env_, nullptr, message);
}

napi_value Args::at(size_t index, const char* name) {
  if (!ok_) return nullptr;
  if (index >= argc_) {
    fail("argument %zu (%s) is missing", index, name);
    return nullptr;
  }
  return argv_[index];
}

bool Args::typedArray(size_t index, const char* name, napi_typedarray_type expected,
                      const char* expectedName, void** data, size_t* length) {
  napi_value value = at(index, name);
  if (value == nullptr) return false;
  bool isTypedArray = false;
  napi_is_typedarray(env_, value, &isTypedArray);
  napi_typedarray_type type = napi_int8_array;
  void* raw = nullptr;
  if (!isTypedArray ||
      napi_get_typedarray_info(env_, value, &type, length, &raw, nullptr, nullptr) != napi_ok ||
      type != expected) {
    failType(name, expectedName);
    return false;
  }
  // Node-API's data pointer already points at element 0 of the view (buffer start + byteOffset).
  *data = raw;
  return true;
}

bool Args::typedArray(size_t index, const char* name, float** data, size_t* length) {
  void* raw = nullptr;
  const bool ok = typedArray(index, name, napi_float32_array, "a Float32Array", &raw, length);
  *data = static_cast<float*>(raw);
  return ok;
}

const uint8_t* Args::bytes(size_t index, const char* name, uint64_t need, size_t* lengthOut) {
  void* raw = nullptr;
  size_t length = 0;
  if (!typedArray(index, name, napi_uint8_array, "a Uint8Array", &raw, &length)) return nullptr;
  if (lengthOut != nullptr) *lengthOut = length;
  if (length < need) {
    fail("%s has %zu elements but the sizes given need %llu", name, length,
         static_cast<unsigned long long>(need));
    return nullptr;
  }
  return static_cast<const uint8_t*>(raw);
}

bool Args::nullish(size_t index, const char* name) {
  napi_value value = at(index, name);
  if (value == nullptr) return true;  // missing: at() has thrown
  napi_valuetype kind = napi_undefined;
  napi_typeof(env_, value, &kind);
  return kind == napi_null || kind == napi_undefined;
}

const uint32_t* Args::optionalUint32s(size_t index, const char* name, uint64_t need) {
  return nullish(index, name) ? nullptr : uint32s(index, name, need);
}

void* Args::typedArray(size_t index, const char* name, napi_typedarray_type expected,
                       const char* expectedName, uint64_t need, size_t* full) {
  void* raw = nullptr;
  size_t length = 0;
  if (!typedArray(index, name, expected, expectedName, &raw, &length)) return nullptr;
  if (full != nullptr) *full = length;
  if (length < need) {
    fail("%s has %zu elements but the sizes given need %llu", name, length,
         static_cast<unsigned long long>(need));
    return nullptr;
  }
  return raw;
}

const uint32_t* Args::uint32s(size_t index, const char* name, uint64_t need) {
  return static_cast<const uint32_t*>(
      typedArray(index, name, napi_uint32_array, "a Uint32Array", need));
}

const int32_t* Args::int32s(size_t index, const char* name, uint64_t need, size_t* length) {
  return static_cast<const int32_t*>(typedArray(index, name, napi_int32_array, "an Int32Array", need, length));
}

const int32_t* Args::optionalInt32s(size_t index, const char* name, uint64_t need, size_t* length) {
  return nullish(index, name) ? nullptr : int32s(index, name, need, length);
}

const uint8_t* Args::optionalBytes(size_t index, const char* name, uint64_t need) {
  return nullish(index, name) ? nullptr : bytes(index, name, need);
}

double* Args::doubles(size_t index, const char* name, uint64_t need) {
  return static_cast<double*>(typedArray(index, name, napi_float64_array, "a Float64Array", need));
}

uint16_t* Args::optionalUint16s(size_t index, const char* name, uint64_t need) {
  if (index >= argc_) return nullptr;
  return nullish(index, name) ? nullptr : uint16s(index, name, need);
}

uint16_t* Args::uint16s(size_t index, const char* name, uint64_t need) {
  return static_cast<uint16_t*>(typedArray(index, name, napi_uint16_array, "a Uint16Array", need));
}

float* Args::floats(size_t index, const char* name, uint64_t need) {
  float* data = nullptr;
  size_t length = 0;
  if (!typedArray(index, name, &data, &length)) return nullptr;
  if (length < need) {
    fail("%s has %zu elements but the sizes given need %llu", name, length,
         static_cast<unsigned long long>(need));
    return nullptr;
  }
  return data;
}

float* Args::optionalFloats(size_t index, const char* name, uint64_t need) {
  return nullish(index, name) ? nullptr : floats(index, name, need);
}

size_t Args::length(size_t index, const char* name) {
  float* data = nullptr;
  size_t length = 0;
  return typedArray(index, name, &data, &length) ? length : 0;
}

uint64_t Args::size(size_t index, const char* name) {
  double value = number(index, name);
  if (!ok_) return 0;
  if (!(value >= 0 && value <= 2147483647.0) || std::floor(value) != value) {
    fail("%s must be an integer from 0 to 2147483647, not %g", name, value);
    return 0;
  }
  return static_cast<uint64_t>(value);
}

double Args::number(size_t index, const char* name) {
  napi_value value = at(index, name);
  if (value == nullptr) return 0;
  double result = 0;
  if (napi_get_value_double(env_, value, &result) != napi_ok) {
    failType(name, "a number");
    return 0;
  }
  return result;
}

bool Args::flag(size_t index, const char* name) {
  napi_value value = at(index, name);
  if (value == nullptr) return false;
  bool result = false;
  if (napi_get_value_bool(env_, value, &result) != napi_ok) {
    failType(name, "a boolean");
    return false;
  }
  return result;
}

napi_value undefinedValue(napi_env env) {
  napi_value result = nullptr;
  napi_get_undefined(env, &result);
  return result;
}

}  // namespace vaekit
