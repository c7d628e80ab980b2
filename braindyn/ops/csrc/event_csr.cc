// braindyn CPU event kernel: out[b, i] = sum_j spikes[b, j] * W[j, i] for a CSR
// connectivity (row j = presynaptic neuron j, indices = postsynaptic targets).
//
// Cost is O(n_pre + synapses of the spiking rows) per batch element: the
// kernel walks the spike vector and, for each non-zero entry, adds that row's
// weights (one scalar for all synapses, or one value per synapse) into out.
//
// Typed XLA FFI handler (see jax.ffi docs).  Operands:
//   spikes  (..., n_pre)     PRED / F32 / F64
//   weights (..., nnz) or (..., 1) when homo != 0      F32 / F64 (= out dtype)
//   indptr  (..., n_pre + 1) S32
//   indices (..., nnz)       S32
//   out     (..., n_post)    F32 / F64
// Leading (batch) dimensions come from jax.vmap with vmap_method="expand_dims":
// every operand has the output's batch rank, each dimension either equal to
// the output's or 1 (broadcast).
//
// Invalid CSRs (built with validate=False) never make the kernel read or write
// outside its buffers: a column index is treated as the pure-JAX paths treat it
// (NumPy indexing into out, then dropped if out of range): a negative index
// counts from the end once (-1 -> n_post - 1) and what is still outside
// [0, n_post) is skipped; row bounds indptr[j], indptr[j+1] are clamped to
// [0, nnz]; an indptr of the wrong length is an error.
//
// A second handler, BraindynEventProcedural, does the same product for procedural
// connectivity (braindyn.connect.ProceduralConn with a homogeneous weight): the targets of
// each spiking row are regenerated from (seed, row) by the integer hash and the geometric-gap
// rule of braindyn/connect/procedural.py, which it must reproduce exactly (same hash, same
// threshold table, same corrected gap count), so that it adds to the same synapses.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// Offset (in elements) of batch element `b` inside an operand whose leading
// `brank` dims are either the output's batch dims or 1, with `core` trailing
// elements per batch element.
struct BatchIndexer {
  std::vector<int64_t> out_dims;   // output batch dims
  std::vector<int64_t> strides;    // operand strides per batch dim (0 if broadcast)
  int64_t offset(int64_t b) const {
    int64_t off = 0;
    for (int d = static_cast<int>(out_dims.size()) - 1; d >= 0; --d) {
      int64_t i = b % out_dims[d];
      b /= out_dims[d];
      off += i * strides[d];
    }
    return off;
  }
};

ffi::Error make_indexer(ffi::Span<const int64_t> odims, ffi::Span<const int64_t> idims,
                        BatchIndexer* ix, const char* name) {
  const size_t brank = odims.size() - 1;
  if (idims.size() != brank + 1) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      std::string("braindyn_event_csr: bad rank for operand ") + name);
  }
  ix->out_dims.assign(odims.begin(), odims.begin() + brank);
  ix->strides.assign(brank, 0);
  int64_t stride = idims[brank];
  for (int d = static_cast<int>(brank) - 1; d >= 0; --d) {
    if (idims[d] != 1 && idims[d] != odims[d]) {
      return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                        std::string("braindyn_event_csr: batch dim mismatch for ") + name);
    }
    ix->strides[d] = (idims[d] == 1) ? 0 : stride;
    stride *= idims[d];
  }
  return ffi::Error::Success();
}

// Branch hints and unrolling. The scatter loop is unrolled 4 times: the loop overhead
// saved pays for the test of each column index.
#if defined(__GNUC__) || defined(__clang__)
#define BRAINDYN_LIKELY(x) __builtin_expect(!!(x), 1)
#define BRAINDYN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define BRAINDYN_LIKELY(x) (x)
#define BRAINDYN_UNLIKELY(x) (x)
#endif
#if defined(__clang__)
#define BRAINDYN_UNROLL _Pragma("unroll 4")
#elif defined(__GNUC__)
#define BRAINDYN_UNROLL _Pragma("GCC unroll 4")
#else
#define BRAINDYN_UNROLL
#endif

// out[col] += v for a column index outside [0, n_post): counted from the end once if
// negative (as NumPy indexing into out does), dropped if still out of range.
template <typename T>
void add_out_of_range(T* out, int64_t n_post, int32_t col, T v) {
  if (col < 0 && col + n_post >= 0) out[col + n_post] += v;
}

// out[indices[k]] += value(k) for the synapses k in [begin, end) of one row. Each index is
// tested by one unsigned comparison, predicted true (a negative index is >= 2^31 as
// unsigned; indices are int32, so the bound is capped at 2^31).
template <typename T, typename F>
inline void scatter_row(T* out, int64_t n_post, const int32_t* indices, int64_t begin,
                        int64_t end, F value) {
  const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(n_post, int64_t{1} << 31));
  BRAINDYN_UNROLL
  for (int64_t k = begin; k < end; ++k) {
    const int32_t c = indices[k];
    if (BRAINDYN_LIKELY(static_cast<uint32_t>(c) < n)) {
      out[c] += value(k);
    } else {
      add_out_of_range(out, n_post, c, value(k));
    }
  }
}

// True if the 8 entries s[0..7] are all zero (+0 or -0 for floats): one 64-bit test for bool
// spikes, an OR of the bit patterns without their sign bits for floats (vectorised), so that
// the walk over a mostly silent spike vector costs about one test per 8 neurons.
inline bool zero8(const bool* s) {
  uint64_t v;
  std::memcpy(&v, s, 8);
  return v == 0;
}
template <typename U, typename F>   // U: the unsigned integer of F's size
inline bool zero8_float(const F* s) {
  static_assert(sizeof(U) == sizeof(F), "bit pattern of the same size");
  U v[8];
  std::memcpy(v, s, sizeof(v));
  U acc = 0;
  for (int k = 0; k < 8; ++k) acc |= static_cast<U>(v[k] << 1);
  return acc == 0;
}
inline bool zero8(const float* s) { return zero8_float<uint32_t>(s); }
inline bool zero8(const double* s) { return zero8_float<uint64_t>(s); }

// Calls row(j) for every j in [0, n) with spikes[j] != 0, in increasing order.
template <typename S, typename F>
inline void for_each_spike(const S* spikes, int64_t n, F row) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    if (BRAINDYN_LIKELY(zero8(spikes + j))) continue;   // most neurons are silent
    for (int64_t k = j; k < j + 8; ++k) {
      if (spikes[k]) row(k);
    }
  }
  for (; j < n; ++j) {
    if (spikes[j]) row(j);
  }
}

template <typename S, typename T>
void run_csr(const S* spikes, const T* w, const int32_t* indptr, const int32_t* indices,
             T* out, int64_t n_pre, int64_t n_post, int64_t nnz, bool homo) {
  std::fill(out, out + n_post, T(0));
  for_each_spike(spikes, n_pre, [&](int64_t j) {
    const S s = spikes[j];
    int64_t begin = indptr[j], end = indptr[j + 1];
    if (BRAINDYN_UNLIKELY(begin < 0 || end > nnz)) {   // an invalid indptr: clamp
      begin = std::max<int64_t>(begin, 0);
      end = std::min<int64_t>(end, nnz);
    }
    if (homo) {
      const T v = w[0] * static_cast<T>(s);
      scatter_row(out, n_post, indices, begin, end, [v](int64_t) { return v; });
    } else if (static_cast<T>(s) == T(1)) {
      scatter_row(out, n_post, indices, begin, end, [w](int64_t k) { return w[k]; });
    } else {
      const T sv = static_cast<T>(s);
      scatter_row(out, n_post, indices, begin, end, [w, sv](int64_t k) { return sv * w[k]; });
    }
  });
}

// n_post (output core size), n_pre (spike core size) and the number of batch elements.
struct Sizes {
  int64_t n_post = 0, n_pre = 0, n_batch = 1;
};

ffi::Error sizes_of(ffi::AnyBuffer spikes, ffi::AnyBuffer out, const char* who, Sizes* z) {
  auto od = out.dimensions();
  if (od.size() < 1) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument, std::string(who) + ": scalar output");
  }
  z->n_post = od[od.size() - 1];
  auto sd = spikes.dimensions();
  z->n_pre = sd[sd.size() - 1];
  z->n_batch = 1;
  for (size_t d = 0; d + 1 < od.size(); ++d) z->n_batch *= od[d];
  return ffi::Error::Success();
}

template <typename S, typename T>
ffi::Error dispatch(ffi::AnyBuffer spikes, ffi::AnyBuffer weights, ffi::AnyBuffer indptr,
                    ffi::AnyBuffer indices, ffi::AnyBuffer out, bool homo) {
  Sizes z;
  ffi::Error e = sizes_of(spikes, out, "braindyn_event_csr", &z);
  if (e.failure()) return e;
  auto od = out.dimensions();
  const int64_t n_post = z.n_post, n_pre = z.n_pre, n_batch = z.n_batch;
  const int64_t w_core = weights.dimensions()[weights.dimensions().size() - 1];
  const int64_t nnz = indices.dimensions()[indices.dimensions().size() - 1];
  BatchIndexer is, iw, ip, ii;
  e = make_indexer(od, spikes.dimensions(), &is, "spikes");
  if (e.failure()) return e;
  e = make_indexer(od, weights.dimensions(), &iw, "weights");
  if (e.failure()) return e;
  e = make_indexer(od, indptr.dimensions(), &ip, "indptr");
  if (e.failure()) return e;
  e = make_indexer(od, indices.dimensions(), &ii, "indices");
  if (e.failure()) return e;
  if (indptr.dimensions()[indptr.dimensions().size() - 1] != n_pre + 1) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_csr: indptr must have n_pre + 1 entries");
  }
  if (homo && w_core < 1) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_csr: a scalar weight needs one value");
  }
  if (!homo && w_core != nnz) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_csr: weights must have one value per synapse");
  }
  const S* sp = reinterpret_cast<const S*>(spikes.untyped_data());
  const T* wp = reinterpret_cast<const T*>(weights.untyped_data());
  const int32_t* pp = reinterpret_cast<const int32_t*>(indptr.untyped_data());
  const int32_t* xp = reinterpret_cast<const int32_t*>(indices.untyped_data());
  T* op = reinterpret_cast<T*>(out.untyped_data());
  for (int64_t b = 0; b < n_batch; ++b) {
    run_csr<S, T>(sp + is.offset(b), wp + iw.offset(b), pp + ip.offset(b), xp + ii.offset(b),
                  op + b * n_post, n_pre, n_post, nnz, homo);
  }
  return ffi::Error::Success();
}

ffi::Error EventCsrImpl(ffi::AnyBuffer spikes, ffi::AnyBuffer weights,
                        ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
                        ffi::Result<ffi::AnyBuffer> out, int32_t homo) {
  using DT = ffi::DataType;
  if (indptr.element_type() != DT::S32 || indices.element_type() != DT::S32) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_csr: indptr/indices must be int32");
  }
  const DT st = spikes.element_type();
  const DT wt = weights.element_type();
  if (wt != out->element_type()) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_csr: weights and output dtypes differ");
  }
  const bool h = homo != 0;
  if (wt == DT::F32) {
    if (st == DT::PRED) return dispatch<bool, float>(spikes, weights, indptr, indices, *out, h);
    if (st == DT::F32) return dispatch<float, float>(spikes, weights, indptr, indices, *out, h);
  } else if (wt == DT::F64) {
    if (st == DT::PRED) return dispatch<bool, double>(spikes, weights, indptr, indices, *out, h);
    if (st == DT::F64) return dispatch<double, double>(spikes, weights, indptr, indices, *out, h);
  }
  return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                    "braindyn_event_csr: unsupported dtype combination (spikes must be bool "
                    "or the weight dtype; weights float32/float64)");
}

// ---------------------------------------------------------------- procedural rows
// The 32-bit finaliser and the counter-based hash of braindyn.connect.procedural
// (_mix, hash_u32 with stream 0): unsigned arithmetic wraps modulo 2^32 as in JAX.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  return x ^ (x >> 16);
}

struct ProcRow {
  const uint32_t* table;   // T[0..G], descending; T[0] a placeholder
  int64_t G;               // entries after the placeholder
  float inv_log;           // float32(log1p(-p)): the divisor of the float guess
  uint32_t seed;
  int64_t k_max, n_cand;
  bool allow_self;

  // Number of skipped candidates F = #{g >= 1 : T[g] > h}: float guess, then the integer
  // corrections of _skips (two rounds; the guess is within one of F, so F is exact).
  int64_t skips(uint32_t h) const {
    if (G == 0) return 0;
    const float u = (static_cast<float>(h) + 1.0f) * 0x1p-32f;   // T[g] > h <=> (1-p)^g 2^32 >= h + 1
    const float x = std::floor(std::log(u) / inv_log);
    int64_t f;
    if (!(x < static_cast<float>(G))) f = G;        // also NaN
    else if (x < 0.0f) f = 0;
    else f = static_cast<int64_t>(x);
    for (int r = 0; r < 2; ++r) {
      if (f < G && table[std::min<int64_t>(f + 1, G)] > h) f += 1;
      if (f >= 1 && table[f] <= h) f -= 1;
    }
    return f;
  }

  // Calls add(target) for every synapse of row j, in increasing target order.
  template <typename F>
  void walk(int64_t j, F add) const {
    const uint32_t key = mix32(mix32(seed ^ 0x9E3779B9u) + static_cast<uint32_t>(j) * 0x9E3779B9u);
    int64_t pos = -1;
    for (int64_t c = 0; c < k_max; ++c) {
      const uint32_t h = mix32(key ^ mix32(static_cast<uint32_t>(c) * 0x85EBCA6Bu));
      pos += skips(h) + 1;
      if (pos >= n_cand) return;
      add(allow_self ? pos : pos + (pos >= j ? 1 : 0));
    }
  }
};

template <typename S, typename T>
ffi::Error dispatch_proc(ffi::AnyBuffer spikes, ffi::AnyBuffer weight, ffi::AnyBuffer table,
                         ffi::AnyBuffer offset, ffi::AnyBuffer out, const ProcRow& pr0, int64_t n_full) {
  Sizes z;
  ffi::Error e = sizes_of(spikes, out, "braindyn_event_procedural", &z);
  if (e.failure()) return e;
  auto od = out.dimensions();
  const int64_t n_post = z.n_post, n_pre = z.n_pre, n_batch = z.n_batch;
  BatchIndexer is, iw;
  e = make_indexer(od, spikes.dimensions(), &is, "spikes");
  if (e.failure()) return e;
  e = make_indexer(od, weight.dimensions(), &iw, "weight");
  if (e.failure()) return e;
  // the table is a constant: under vmap (expand_dims) it only gains leading dims of size 1
  auto td = table.dimensions();
  bool table_ok = td.size() >= 1 && td[td.size() - 1] >= 1;
  for (size_t d = 0; d + 1 < td.size(); ++d) table_ok = table_ok && td[d] == 1;
  if (!table_ok) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument, "braindyn_event_procedural: bad table");
  }
  if (pr0.n_cand + (pr0.allow_self ? 0 : 1) != n_full || n_post > n_full) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_procedural: n_cand does not match the output size");
  }
  BatchIndexer io;
  e = make_indexer(od, offset.dimensions(), &io, "offset");
  if (e.failure()) return e;
  const int32_t* lop = reinterpret_cast<const int32_t*>(offset.untyped_data());
  ProcRow pr = pr0;
  pr.table = reinterpret_cast<const uint32_t*>(table.untyped_data());
  pr.G = td[td.size() - 1] - 1;
  const S* sp = reinterpret_cast<const S*>(spikes.untyped_data());
  const T* wp = reinterpret_cast<const T*>(weight.untyped_data());
  T* op = reinterpret_cast<T*>(out.untyped_data());
  for (int64_t b = 0; b < n_batch; ++b) {
    const S* s = sp + is.offset(b);
    const T w = wp[iw.offset(b)];
    const int64_t lo = lop[io.offset(b)];
    T* o = op + b * n_post;
    std::fill(o, o + n_post, T(0));
    for_each_spike(s, n_pre, [&](int64_t j) {
      const T v = (static_cast<T>(s[j]) == T(1)) ? w : w * static_cast<T>(s[j]);
      // targets are in [0, n_full) by construction (pos < n_cand, +1 only without self);
      // a block of the columns keeps [lo, lo + n_post)
      if (lo == 0 && n_post == n_full) {
        pr.walk(j, [o, v](int64_t i) { o[i] += v; });
      } else {
        pr.walk(j, [o, v, lo, n_post](int64_t i) {
          const int64_t k = i - lo;
          if (k >= 0 && k < n_post) o[k] += v;
        });
      }
    });
  }
  return ffi::Error::Success();
}

ffi::Error EventProceduralImpl(ffi::AnyBuffer spikes, ffi::AnyBuffer weight, ffi::AnyBuffer table,
                               ffi::AnyBuffer offset, ffi::Result<ffi::AnyBuffer> out, int64_t seed,
                               int64_t k_max, int64_t n_cand, int64_t n_full, int32_t allow_self,
                               float inv_log) {
  using DT = ffi::DataType;
  if (table.element_type() != DT::U32 || offset.element_type() != DT::S32) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_procedural: the threshold table must be uint32, the offset int32");
  }
  if (seed < 0 || seed > 0xFFFFFFFFll || k_max < 0 || n_cand < 0) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument, "braindyn_event_procedural: bad attributes");
  }
  ProcRow pr{nullptr, 0, inv_log, static_cast<uint32_t>(seed), k_max, n_cand, allow_self != 0};
  const DT st = spikes.element_type();
  const DT wt = weight.element_type();
  if (wt != out->element_type()) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "braindyn_event_procedural: weight and output dtypes differ");
  }
  if (wt == DT::F32) {
    if (st == DT::PRED) return dispatch_proc<bool, float>(spikes, weight, table, offset, *out, pr, n_full);
    if (st == DT::F32) return dispatch_proc<float, float>(spikes, weight, table, offset, *out, pr, n_full);
  } else if (wt == DT::F64) {
    if (st == DT::PRED) return dispatch_proc<bool, double>(spikes, weight, table, offset, *out, pr, n_full);
    if (st == DT::F64) return dispatch_proc<double, double>(spikes, weight, table, offset, *out, pr, n_full);
  }
  return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                    "braindyn_event_procedural: unsupported dtype combination");
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(BraindynEventProcedural, EventProceduralImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()   // spikes (..., n_pre)
                                  .Arg<ffi::AnyBuffer>()   // weight (..., 1)
                                  .Arg<ffi::AnyBuffer>()   // threshold table (G + 1,) uint32
                                  .Arg<ffi::AnyBuffer>()   // first target kept (..., 1) int32
                                  .Ret<ffi::AnyBuffer>()   // out (..., n_post)
                                  .Attr<int64_t>("seed")
                                  .Attr<int64_t>("k_max")
                                  .Attr<int64_t>("n_cand")
                                  .Attr<int64_t>("n_full")
                                  .Attr<int32_t>("allow_self")
                                  .Attr<float>("inv_log"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(BraindynEventCsr, EventCsrImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()   // spikes
                                  .Arg<ffi::AnyBuffer>()   // weights
                                  .Arg<ffi::AnyBuffer>()   // indptr
                                  .Arg<ffi::AnyBuffer>()   // indices
                                  .Ret<ffi::AnyBuffer>()   // out
                                  .Attr<int32_t>("homo"));
