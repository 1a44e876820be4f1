// N-API bindings (plain C API, no node-addon-api dependency). Every argument is checked here before
// a kernel touches memory: a wrong length or shape throws a JS RangeError/TypeError, it never reads
// or writes out of bounds. The TypeScript wrapper checks the same things first with friendlier
// messages; these checks are the backstop for anyone calling the addon directly.
#include <node_api.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "kernels.h"

namespace {

using rk::Pool;

constexpr napi_type_tag kPoolTag = {0x7261677475e6b65ull, 0x726e656c706f6f6cull};
constexpr int64_t kMaxDim = INT32_MAX;  // per dimension; products are checked by Mul

// a·b·c, saturating: a huge claimed size then fails the length check instead of wrapping around.
int64_t Mul(int64_t a, int64_t b, int64_t c = 1) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_mul_overflow(r, c, &r)) return INT64_MAX;
  return r;
}

void DeletePool(napi_env, void* data, void*) { delete static_cast<Pool*>(data); }

bool Overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return a_bytes > 0 && b_bytes > 0 && x < y + b_bytes && y < x + a_bytes;
}

// One call's arguments, with the first failure turned into a pending JS exception.
class Call {
 public:
  Call(napi_env env, napi_callback_info info, const char* name) : env_(env), name_(name) {
    argc_ = kMaxArgs;
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) Fail(false, "could not read the arguments");
  }

  bool ok() const { return !failed_; }
  napi_env env() const { return env_; }

  // Throws once (RangeError, or TypeError when `type` is set) and marks the call failed.
  bool Fail(bool type, const char* format, ...) {
    if (failed_) return false;
    failed_ = true;
    char message[512];
    int used = std::snprintf(message, sizeof message, "ragtune kernels: %s: ", name_);
    va_list args;
    va_start(args, format);
    std::vsnprintf(message + used, sizeof message - static_cast<size_t>(used), format, args);
    va_end(args);
    if (type) napi_throw_type_error(env_, nullptr, message);
    else napi_throw_range_error(env_, nullptr, message);
    return false;
  }

  Pool* GetPool(size_t i) {
    if (failed_) return nullptr;
    bool tagged = false;
    void* data = nullptr;
    if (i >= argc_ || napi_check_object_type_tag(env_, argv_[i], &kPoolTag, &tagged) != napi_ok || !tagged ||
        napi_get_value_external(env_, argv_[i], &data) != napi_ok) {
      Fail(true, "the first argument must be a pool from createPool()");
      return nullptr;
    }
    return static_cast<Pool*>(data);
  }

  template <class T>
  T* Array(size_t i, const char* what, napi_typedarray_type want, const char* type_name, size_t* length, bool optional = false) {
    *length = 0;
    if (failed_) return nullptr;
    napi_valuetype vt = napi_undefined;
    if (i < argc_) napi_typeof(env_, argv_[i], &vt);
    if (optional && (vt == napi_undefined || vt == napi_null)) return nullptr;
    bool is_typed = false;
    if (i < argc_) napi_is_typedarray(env_, argv_[i], &is_typed);
    napi_typedarray_type type;
    void* data = nullptr;
    if (!is_typed || napi_get_typedarray_info(env_, argv_[i], &type, length, &data, nullptr, nullptr) != napi_ok || type != want) {
      Fail(true, "%s must be a %s", what, type_name);
      return nullptr;
    }
    return static_cast<T*>(data);
  }
  float* F32(size_t i, const char* what, size_t* length, bool optional = false) { return Array<float>(i, what, napi_float32_array, "Float32Array", length, optional); }
  int32_t* I32(size_t i, const char* what, size_t* length) { return Array<int32_t>(i, what, napi_int32_array, "Int32Array", length); }
  uint8_t* U8(size_t i, const char* what, size_t* length) { return Array<uint8_t>(i, what, napi_uint8_array, "Uint8Array", length); }

  double Number(size_t i, const char* what) {
    double value = 0;
    if (failed_) return 0;
    if (i >= argc_ || napi_get_value_double(env_, argv_[i], &value) != napi_ok) Fail(true, "%s must be a number", what);
    return value;
  }

  int64_t Int(size_t i, const char* what, int64_t min, int64_t max = kMaxDim) {
    const double value = Number(i, what);
    if (failed_) return 0;
    if (!(value >= static_cast<double>(min) && value <= static_cast<double>(max)) || value != static_cast<double>(static_cast<int64_t>(value))) {
      Fail(false, "%s must be an integer in [%lld, %lld], got %g", what, static_cast<long long>(min), static_cast<long long>(max), value);
      return 0;
    }
    return static_cast<int64_t>(value);
  }

  bool Bool(size_t i) {
    bool value = false;
    if (failed_ || i >= argc_) return false;
    napi_valuetype vt;
    napi_typeof(env_, argv_[i], &vt);
    if (vt == napi_boolean) napi_get_value_bool(env_, argv_[i], &value);
    return value;
  }

  // The array must hold at least `need` values.
  bool Holds(size_t length, int64_t need, const char* what, const char* formula) {
    if (failed_) return false;
    if (static_cast<int64_t>(length) < need) return Fail(false, "%s holds %zu values, needs at least %s = %lld", what, length, formula, static_cast<long long>(need));
    return true;
  }

  bool Require(bool condition, const char* message) {
    if (failed_) return false;
    if (!condition) return Fail(false, "%s", message);
    return true;
  }

  // Segment offsets: S + 1 values, 0 first, never decreasing.
  rk::Segments GetSegments(size_t i) {
    size_t length = 0;
    const int32_t* offsets = I32(i, "segments", &length);
    rk::Segments seg{offsets, 0};
    if (failed_) return seg;
    if (length < 1 || offsets[0] != 0) {
      Fail(false, "segments must start with 0 (it holds S + 1 offsets)");
      return seg;
    }
    for (size_t s = 1; s < length; ++s) {
      if (offsets[s] < offsets[s - 1]) {
        Fail(false, "segments must never decrease, but segments[%zu] = %d < segments[%zu] = %d", s, offsets[s], s - 1, offsets[s - 1]);
        return seg;
      }
    }
    seg.count = static_cast<int64_t>(length) - 1;
    return seg;
  }

  napi_value Undefined() {
    napi_value u;
    napi_get_undefined(env_, &u);
    return u;
  }

 private:
  static constexpr size_t kMaxArgs = 16;
  napi_env env_;
  const char* name_;
  napi_value argv_[kMaxArgs];
  size_t argc_ = 0;
  bool failed_ = false;
};

napi_value CreatePool(napi_env env, napi_callback_info info) {
  Call call(env, info, "createPool");
  const int64_t threads = call.Int(0, "threads", 1, Pool::kMaxThreads);
  if (!call.ok()) return nullptr;
  auto* pool = new Pool(static_cast<int>(threads));
  napi_value external;
  if (napi_create_external(env, pool, DeletePool, nullptr, &external) != napi_ok || napi_type_tag_object(env, external, &kPoolTag) != napi_ok) {
    delete pool;
    napi_throw_error(env, nullptr, "ragtune kernels: createPool: could not wrap the pool");
    return nullptr;
  }
  return external;
}

napi_value Sgemm(napi_env env, napi_callback_info info) {
  Call call(env, info, "sgemm");
  Pool* pool = call.GetPool(0);
  const int64_t m = call.Int(1, "m", 0), n = call.Int(2, "n", 0), k = call.Int(3, "k", 0);
  size_t la, lb, lc;
  const float* a = call.F32(4, "a", &la);
  const float* b = call.F32(5, "b", &lb);
  float* c = call.F32(6, "c", &lc);
  const bool ta = call.Bool(7), tb = call.Bool(8);
  const double alpha = call.Number(9, "alpha"), beta = call.Number(10, "beta");
  call.Holds(la, Mul(m, k), "a", "m·k");
  call.Holds(lb, Mul(k, n), "b", "k·n");
  call.Holds(lc, Mul(m, n), "c", "m·n");
  if (call.ok()) call.Require(!Overlap(c, sizeof(float) * m * n, a, sizeof(float) * m * k) && !Overlap(c, sizeof(float) * m * n, b, sizeof(float) * k * n), "c must not share memory with a or b");
  if (!call.ok()) return nullptr;
  rk::Sgemm(*pool, {m, n, k, a, b, c, ta, tb, static_cast<float>(alpha), static_cast<float>(beta)});
  return call.Undefined();
}

napi_value Dequantize(napi_env env, napi_callback_info info) {
  Call call(env, info, "dequantize");
  Pool* pool = call.GetPool(0);
  const int64_t type = call.Int(1, "type code", 0, 2);
  size_t ls, lo;
  const uint8_t* src = call.U8(2, "src", &ls);
  float* out = call.F32(3, "out", &lo);
  const int64_t count = call.Int(4, "count", 0);
  if (!call.ok()) return nullptr;
  const auto wt = static_cast<rk::WeightType>(type);
  if (wt == rk::WeightType::kQ8_0) call.Require(count % 32 == 0, "q8_0 count must be a multiple of 32 (whole blocks)");
  const int64_t bytes = wt == rk::WeightType::kF32 ? 4 * count : wt == rk::WeightType::kF16 ? 2 * count : count / 32 * 34;
  if (call.ok() && static_cast<int64_t>(ls) < bytes) call.Fail(false, "src holds %zu bytes, needs %lld for %lld values", ls, static_cast<long long>(bytes), static_cast<long long>(count));
  call.Holds(lo, count, "out", "count");
  if (!call.ok()) return nullptr;
  rk::Dequantize(*pool, wt, src, out, count);
  return call.Undefined();
}

napi_value RmsNormForward(napi_env env, napi_callback_info info) {
  Call call(env, info, "rmsNormForward");
  Pool* pool = call.GetPool(0);
  size_t lx, lw, lo, lr;
  const float* x = call.F32(1, "x", &lx);
  const float* w = call.F32(2, "weight", &lw);
  const int64_t rows = call.Int(3, "rows", 0), dim = call.Int(4, "dim", 1);
  const double eps = call.Number(5, "eps");
  float* out = call.F32(6, "out", &lo);
  float* rstd = call.F32(7, "rstd", &lr);
  call.Holds(lx, Mul(rows, dim), "x", "rows·dim");
  call.Holds(lw, dim, "weight", "dim");
  call.Holds(lo, Mul(rows, dim), "out", "rows·dim");
  call.Holds(lr, rows, "rstd", "rows");
  if (!call.ok()) return nullptr;
  rk::RmsNormForward(*pool, x, w, rows, dim, static_cast<float>(eps), out, rstd);
  return call.Undefined();
}

napi_value RmsNormBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "rmsNormBackward");
  Pool* pool = call.GetPool(0);
  size_t lx, lw, lr, ldo, ldx, ldw;
  const float* x = call.F32(1, "x", &lx);
  const float* w = call.F32(2, "weight", &lw);
  const int64_t rows = call.Int(3, "rows", 0), dim = call.Int(4, "dim", 1);
  const float* rstd = call.F32(5, "rstd", &lr);
  const float* d_out = call.F32(6, "dOut", &ldo);
  float* d_x = call.F32(7, "dX", &ldx);
  float* d_w = call.F32(8, "dWeight", &ldw, true);
  call.Holds(lx, Mul(rows, dim), "x", "rows·dim");
  call.Holds(lw, dim, "weight", "dim");
  call.Holds(lr, rows, "rstd", "rows");
  call.Holds(ldo, Mul(rows, dim), "dOut", "rows·dim");
  call.Holds(ldx, Mul(rows, dim), "dX", "rows·dim");
  if (d_w) call.Holds(ldw, dim, "dWeight", "dim");
  if (!call.ok()) return nullptr;
  rk::RmsNormBackward(*pool, x, w, rows, dim, rstd, d_out, d_x, d_w);
  return call.Undefined();
}

napi_value Rope(napi_env env, napi_callback_info info) {
  Call call(env, info, "rope");
  Pool* pool = call.GetPool(0);
  size_t lx;
  float* x = call.F32(1, "x", &lx);
  const rk::Segments seg = call.GetSegments(2);
  const int64_t heads = call.Int(3, "heads", 1), head_dim = call.Int(4, "headDim", 2);
  const double base = call.Number(5, "freqBase");
  const bool inverse = call.Bool(6);
  call.Require(head_dim % 2 == 0, "headDim must be even (rotary pairs)");
  call.Require(base > 0, "freqBase must be positive");
  if (call.ok()) call.Holds(lx, Mul(seg.tokens(), heads, head_dim), "x", "T·heads·headDim");
  if (!call.ok()) return nullptr;
  rk::Rope(*pool, x, seg, heads, head_dim, base, inverse);
  return call.Undefined();
}

// Reads q, k, v, segments, heads, kvHeads, headDim, scale from argument 1 on.
bool AttentionInputs(Call& call, rk::AttentionShape* s, const float** q, const float** k, const float** v) {
  size_t lq, lk, lv;
  *q = call.F32(1, "q", &lq);
  *k = call.F32(2, "k", &lk);
  *v = call.F32(3, "v", &lv);
  s->seg = call.GetSegments(4);
  s->heads = call.Int(5, "heads", 1);
  s->kv_heads = call.Int(6, "kvHeads", 1);
  s->head_dim = call.Int(7, "headDim", 1);
  s->scale = static_cast<float>(call.Number(8, "scale"));
  if (!call.ok()) return false;
  call.Require(s->heads % s->kv_heads == 0, "heads must be a multiple of kvHeads");
  const int64_t T = s->seg.tokens();
  call.Holds(lq, Mul(T, s->heads, s->head_dim), "q", "T·heads·headDim");
  call.Holds(lk, Mul(T, s->kv_heads, s->head_dim), "k", "T·kvHeads·headDim");
  call.Holds(lv, Mul(T, s->kv_heads, s->head_dim), "v", "T·kvHeads·headDim");
  return call.ok();
}

napi_value AttentionForward(napi_env env, napi_callback_info info) {
  Call call(env, info, "attentionForward");
  Pool* pool = call.GetPool(0);
  rk::AttentionShape s{};
  const float *q, *k, *v;
  size_t lo, ll;
  AttentionInputs(call, &s, &q, &k, &v);
  float* out = call.F32(9, "out", &lo);
  float* lse = call.F32(10, "lse", &ll);
  if (!call.ok()) return nullptr;
  const int64_t T = s.seg.tokens(), qn = Mul(T, s.heads, s.head_dim), kn = Mul(T, s.kv_heads, s.head_dim);
  call.Holds(lo, qn, "out", "T·heads·headDim");
  call.Holds(ll, Mul(T, s.heads), "lse", "heads·T");
  if (!call.ok()) return nullptr;
  const size_t f = sizeof(float);
  const bool overlap = Overlap(out, f * qn, q, f * qn) || Overlap(out, f * qn, k, f * kn) || Overlap(out, f * qn, v, f * kn) || Overlap(lse, f * T * s.heads, out, f * qn) ||
                       Overlap(lse, f * T * s.heads, q, f * qn) || Overlap(lse, f * T * s.heads, k, f * kn) || Overlap(lse, f * T * s.heads, v, f * kn);
  call.Require(!overlap, "out and lse must not share memory with q, k, v or each other");
  if (!call.ok()) return nullptr;
  rk::AttentionForward(*pool, s, q, k, v, out, lse);
  return call.Undefined();
}

napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "attentionBackward");
  Pool* pool = call.GetPool(0);
  rk::AttentionShape s{};
  const float *q, *k, *v;
  size_t lo, ll, ldo, ldq, ldk, ldv;
  AttentionInputs(call, &s, &q, &k, &v);
  const float* out = call.F32(9, "out", &lo);
  const float* lse = call.F32(10, "lse", &ll);
  const float* d_out = call.F32(11, "dOut", &ldo);
  float* dq = call.F32(12, "dq", &ldq);
  float* dk = call.F32(13, "dk", &ldk);
  float* dv = call.F32(14, "dv", &ldv);
  if (!call.ok()) return nullptr;
  const int64_t T = s.seg.tokens(), qn = Mul(T, s.heads, s.head_dim), kn = Mul(T, s.kv_heads, s.head_dim);
  call.Holds(lo, qn, "out", "T·heads·headDim");
  call.Holds(ll, Mul(T, s.heads), "lse", "heads·T");
  call.Holds(ldo, qn, "dOut", "T·heads·headDim");
  call.Holds(ldq, qn, "dq", "T·heads·headDim");
  call.Holds(ldk, kn, "dk", "T·kvHeads·headDim");
  call.Holds(ldv, kn, "dv", "T·kvHeads·headDim");
  if (!call.ok()) return nullptr;
  const size_t f = sizeof(float);
  const void* inputs[] = {q, k, v, out, lse, d_out};
  const size_t input_bytes[] = {f * qn, f * kn, f * kn, f * qn, f * T * s.heads, f * qn};
  const void* outputs[] = {dq, dk, dv};
  const size_t output_bytes[] = {f * qn, f * kn, f * kn};
  bool overlap = Overlap(dq, output_bytes[0], dk, output_bytes[1]) || Overlap(dq, output_bytes[0], dv, output_bytes[2]) || Overlap(dk, output_bytes[1], dv, output_bytes[2]);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 6; ++i) overlap = overlap || Overlap(outputs[o], output_bytes[o], inputs[i], input_bytes[i]);
  call.Require(!overlap, "dq, dk and dv must not share memory with the inputs or each other");
  if (!call.ok()) return nullptr;
  rk::AttentionBackward(*pool, s, q, k, v, out, lse, d_out, dq, dk, dv);
  return call.Undefined();
}

napi_value SwigluForward(napi_env env, napi_callback_info info) {
  Call call(env, info, "swigluForward");
  Pool* pool = call.GetPool(0);
  size_t lg, lu, lo;
  const float* gate = call.F32(1, "gate", &lg);
  const float* up = call.F32(2, "up", &lu);
  float* out = call.F32(3, "out", &lo);
  const int64_t n = call.Int(4, "n", 0);
  call.Holds(lg, n, "gate", "n");
  call.Holds(lu, n, "up", "n");
  call.Holds(lo, n, "out", "n");
  if (!call.ok()) return nullptr;
  rk::SwigluForward(*pool, gate, up, out, n);
  return call.Undefined();
}

napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "swigluBackward");
  Pool* pool = call.GetPool(0);
  size_t lg, lu, ld, ldg, ldu;
  const float* gate = call.F32(1, "gate", &lg);
  const float* up = call.F32(2, "up", &lu);
  const float* d_out = call.F32(3, "dOut", &ld);
  float* d_gate = call.F32(4, "dGate", &ldg);
  float* d_up = call.F32(5, "dUp", &ldu);
  const int64_t n = call.Int(6, "n", 0);
  call.Holds(lg, n, "gate", "n");
  call.Holds(lu, n, "up", "n");
  call.Holds(ld, n, "dOut", "n");
  call.Holds(ldg, n, "dGate", "n");
  call.Holds(ldu, n, "dUp", "n");
  // Elementwise, so any output may be an input in place; only the two outputs must differ.
  call.Require(!Overlap(d_gate, sizeof(float) * n, d_up, sizeof(float) * n), "dGate and dUp must not share memory");
  if (!call.ok()) return nullptr;
  rk::SwigluBackward(*pool, gate, up, d_out, d_gate, d_up, n);
  return call.Undefined();
}

napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Call call(env, info, "crossEntropy");
  Pool* pool = call.GetPool(0);
  size_t ll, lt;
  float* logits = call.F32(1, "logits", &ll);
  const int32_t* targets = call.I32(2, "targets", &lt);
  const int64_t rows = call.Int(3, "rows", 0), vocab = call.Int(4, "vocab", 1, INT32_MAX);
  const double scale = call.Number(5, "scale");
  call.Holds(ll, Mul(rows, vocab), "logits", "rows·vocab");
  call.Holds(lt, rows, "targets", "rows");
  if (!call.ok()) return nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] < -1 || targets[r] >= vocab) {
      call.Fail(false, "targets[%lld] = %d is outside [-1, vocab = %lld)", static_cast<long long>(r), targets[r], static_cast<long long>(vocab));
      return nullptr;
    }
  }
  const double loss = rk::CrossEntropy(*pool, logits, targets, rows, vocab, static_cast<float>(scale));
  napi_value result;
  napi_create_double(env, loss, &result);
  return result;
}

napi_value MeasurePeakGflops(napi_env env, napi_callback_info info) {
  Call call(env, info, "measurePeakGflops");
  const int64_t threads = call.Int(0, "threads", 1, Pool::kMaxThreads);
  if (!call.ok()) return nullptr;
  napi_value result;
  napi_create_double(env, rk::MeasurePeakGflops(static_cast<int>(threads)), &result);
  return result;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_string_utf8(env, rk::Isa(), NAPI_AUTO_LENGTH, &result);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor methods[] = {
      {"createPool", nullptr, CreatePool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dequantize", nullptr, Dequantize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsNormForward", nullptr, RmsNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsNormBackward", nullptr, RmsNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rope", nullptr, Rope, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionForward", nullptr, AttentionForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionBackward", nullptr, AttentionBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swigluForward", nullptr, SwigluForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swigluBackward", nullptr, SwigluBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"crossEntropy", nullptr, CrossEntropy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"measurePeakGflops", nullptr, MeasurePeakGflops, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}
