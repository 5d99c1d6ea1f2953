#include "hypernet/model.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "nn/attention_pool.hpp"
#include "nn/conv2d.hpp"
#include "nn/linear.hpp"
#include "nn/network.hpp"
#include "nn/norm.hpp"
#include "nn/pointwise.hpp"

namespace kpde::hypernet {

void ModelSpec::validate() const {
  const auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InputError("hypernetwork model: " + what);
  };
  need(input_pool >= 1 && kGrid % input_pool == 0, "input_pool must divide " + std::to_string(kGrid));
  need(stem >= 1, "stem must be >= 1");
  need(!widths.empty() && widths.size() <= 6, "widths must list 1 to 6 stage widths");
  need(blocks >= 0 && blocks <= 8, "blocks must be in 0..8");
  need(groups >= 1 && attention_heads >= 1, "groups and attention_heads must be >= 1");
  for (int w : widths) {
    need(w >= 1, "every width must be >= 1");
    need(w % groups == 0, "groups (" + std::to_string(groups) + ") must divide every width (" + std::to_string(w) + ")");
    need(w % attention_heads == 0,
         "attention_heads (" + std::to_string(attention_heads) + ") must divide every width (" + std::to_string(w) + ")");
  }
  need(cond >= 1 && head_hidden >= 1 && small_hidden >= 1, "cond, head_hidden and small_hidden must be >= 1");
  need(head_groups >= 1 && head_hidden % head_groups == 0 && small_hidden % head_groups == 0,
       "head_groups must divide head_hidden and small_hidden");
  need(std::isfinite(correction_scale) && correction_scale > 0, "correction_scale must be > 0");
  int n = kGrid / input_pool;
  for (std::size_t s = 0; s <= widths.size(); ++s) {
    need(n >= 2, "the grid shrinks below 2 x 2 before the last stage (fewer stages or a smaller input_pool)");
    n = (n - 1) / 2 + 1;
  }
}

std::string ModelSpec::describe() const {
  std::ostringstream o;
  o << "pool " << input_pool << ", stem " << stem << ", widths ";
  for (std::size_t s = 0; s < widths.size(); ++s) o << (s ? "/" : "") << widths[s];
  o << ", " << blocks << " block(s), cond " << cond << ", heads " << head_hidden << "/" << small_hidden;
  return o.str();
}

namespace {

template <class T>
Arr4<T> map4(const char* label, int B, int C, int H, int W) {
  return Arr4<T>(std::string(label), static_cast<std::size_t>(B), static_cast<std::size_t>(C), static_cast<std::size_t>(H),
                 static_cast<std::size_t>(W));
}
template <class T>
Mat<T> mat(const char* label, int R, int C) {
  return Mat<T>(std::string(label), static_cast<std::size_t>(R), static_cast<std::size_t>(C));
}
template <class T>
Arr3<T> as3(const Mat<T>& m) {  // [R][C] -> [R][C][1]
  return Arr3<T>(m.data(), m.extent(0), m.extent(1), 1);
}
template <class V>
std::size_t count(const V& v) {
  return v.size();
}

nn::Conv2dSpec conv_spec(int in, int out, int stride) {
  nn::Conv2dSpec s;
  s.in_channels = in, s.out_channels = out, s.kernel = 3, s.stride = stride, s.padding = 1;
  return s;
}

}  // namespace

template <class T>
struct Model<T>::Layers {
  struct Block {
    nn::GroupNorm<T> gn1, gn2;
    nn::Conv2d<T> c1, c2;
    std::size_t o_gn1, o_c1, o_gn2, o_c2;
  };
  struct Stage {
    int width = 0, size = 0;
    nn::Conv2d<T> down;
    std::size_t o_down = 0;
    std::vector<Block> blocks;
    nn::Linear<T> film;
    std::size_t o_film = 0;
    nn::AttentionPool<T> pool;
    std::size_t o_pool = 0;
  };
  struct Head {
    nn::Linear<T> l1;
    nn::GroupNorm<T> gn;
    nn::Linear<T> l2;
    std::size_t o_l1 = 0, o_gn = 0, o_l2 = 0;
    int hidden = 0;
  };
  nn::Conv2d<T> stem{nn::Conv2dSpec{}};
  std::size_t o_stem = 0;
  int stem_size = 0;
  std::vector<Stage> stages;
  nn::Linear<T> cond1{1, 1}, cond2{1, 1};
  std::size_t o_cond1 = 0, o_cond2 = 0;
  std::vector<Head> heads;
  int pooled = 0;  // sum of widths
  std::size_t total = 0;
};


template <class T>
Model<T>::Model(const ModelSpec& spec) : spec_(spec) {
  spec_.validate();
  auto L = std::make_unique<Layers>();
  std::size_t off = 0;
  const auto take = [&](std::size_t n) {
    const std::size_t o = off;
    off += n;
    blocks_.push_back(o);
    return o;
  };
  L->stem = nn::Conv2d<T>(conv_spec(kInputChannels, spec_.stem, 2));
  L->o_stem = take(L->stem.n_params());
  int n = L->stem.out_extent(input_size());
  L->stem_size = n;
  int prev = spec_.stem;
  for (int w : spec_.widths) {
    typename Layers::Stage st{w, 0, nn::Conv2d<T>(conv_spec(prev, w, 2)), 0, {}, nn::Linear<T>(spec_.cond, 2 * w), 0,
                              nn::AttentionPool<T>(w, spec_.attention_heads, static_cast<int>(target_tensors().size())), 0};
    st.o_down = take(st.down.n_params());
    n = st.down.out_extent(n);
    st.size = n;
    for (int b = 0; b < spec_.blocks; ++b) {
      typename Layers::Block bl{nn::GroupNorm<T>(spec_.groups, w), nn::GroupNorm<T>(spec_.groups, w),
                                nn::Conv2d<T>(conv_spec(w, w, 1)), nn::Conv2d<T>(conv_spec(w, w, 1)), 0, 0, 0, 0};
      bl.o_gn1 = take(bl.gn1.n_params());
      bl.o_c1 = take(bl.c1.n_params());
      bl.o_gn2 = take(bl.gn2.n_params());
      bl.o_c2 = take(bl.c2.n_params());
      st.blocks.push_back(std::move(bl));
    }
    st.o_film = take(st.film.n_params());
    st.o_pool = take(st.pool.n_params());
    L->pooled += w;
    L->stages.push_back(std::move(st));
    prev = w;
  }
  L->cond1 = nn::Linear<T>(kCondInputs, spec_.cond);
  L->o_cond1 = take(L->cond1.n_params());
  L->cond2 = nn::Linear<T>(spec_.cond, spec_.cond);
  L->o_cond2 = take(L->cond2.n_params());
  for (const TargetTensor& t : target_tensors()) {
    const bool big = t.cols > 1 && !t.output();
    const int hidden = big ? spec_.head_hidden : spec_.small_hidden;
    typename Layers::Head h{nn::Linear<T>(L->pooled + spec_.cond, hidden), nn::GroupNorm<T>(spec_.head_groups, hidden),
                            nn::Linear<T>(hidden, static_cast<int>(t.size())), 0, 0, 0, hidden};
    h.o_l1 = take(h.l1.n_params());
    h.o_gn = take(h.gn.n_params());
    h.o_l2 = take(h.l2.n_params());
    L->heads.push_back(std::move(h));
  }
  L->total = off;
  layers_ = std::move(L);
}

template <class T>
Model<T>::~Model() = default;
template <class T>
Model<T>::Model(Model&&) noexcept = default;

template <class T>
std::size_t Model<T>::n_params() const {
  return layers_->total;
}

template <class T>
int Model<T>::input_size() const {
  return kGrid / spec_.input_pool;
}

template <class T>
void Model<T>::init(T* p, std::uint64_t seed) const {
  const Layers& L = *layers_;
  Rng rng(seed);
  L.stem.init(p + L.o_stem, rng);
  for (const auto& st : L.stages) {
    st.down.init(p + st.o_down, rng);
    for (const auto& bl : st.blocks) {
      bl.gn1.init(p + bl.o_gn1);
      bl.c1.init(p + bl.o_c1, rng);
      bl.gn2.init(p + bl.o_gn2);
      bl.c2.init(p + bl.o_c2, rng);
      // the residual branch starts small: each block is close to the identity
      for (std::size_t k = 0; k < bl.c2.n_params(); ++k) p[bl.o_c2 + k] *= T(0.1);
    }
    st.film.init(p + st.o_film, rng);
    for (std::size_t k = 0; k < st.film.n_params(); ++k) p[st.o_film + k] *= T(0.1);  // FiLM starts near (1, 0)
    st.pool.init(p + st.o_pool, rng);
  }
  L.cond1.init(p + L.o_cond1, rng);
  L.cond2.init(p + L.o_cond2, rng);
  // base weights theta0: a Glorot draw of the target network (biases 0)
  nn::Network<T> target(target_spec(1));
  Vec<T> theta0("theta0", target_size());
  target.init_params(theta0, seed ^ 0x7e57ULL);
  const auto& tensors = target_tensors();
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto& h = L.heads[k];
    h.l1.init(p + h.o_l1, rng);
    h.gn.init(p + h.o_gn);
    h.l2.init_kaiming_fan_out(p + h.o_l2, rng);
    const std::size_t nw = static_cast<std::size_t>(h.hidden) * tensors[k].size();
    for (std::size_t q = 0; q < nw; ++q) p[h.o_l2 + q] *= T(spec_.correction_scale);
    for (std::size_t q = 0; q < tensors[k].size(); ++q) p[h.o_l2 + nw + q] = theta0(tensors[k].offset + q);
  }
}

template <class T>
std::unique_ptr<typename Model<T>::Cache> Model<T>::make_cache() const {
  return std::make_unique<Cache>();
}

namespace {

template <class T>
void gelu(const Arr4<T>& x, const Arr4<T>& y) {
  nn::gelu_forward<T>(x.size(), x.data(), y.data());
}
template <class T>
void add_into(const Arr4<T>& y, const Arr4<T>& x) {  // y += x
  T* a = y.data();
  const T* b = x.data();
  const std::size_t n = y.size();
  Kokkos::parallel_for("kpde::hypernet::add", Kokkos::RangePolicy<HostExec>(0, n), [=](const std::size_t i) { a[i] += b[i]; });
}

}  // namespace

template <class T>
void Model<T>::forward(const T* p, const Arr4<const T>& grids, const Mat<const T>& cond, const Mat<T>& targets,
                       Cache* cache) const {
  const Layers& L = *layers_;
  const int B = static_cast<int>(grids.extent(0)), m = input_size();
  if (static_cast<int>(grids.extent(1)) != kInputChannels || static_cast<int>(grids.extent(2)) != m ||
      static_cast<int>(grids.extent(3)) != m)
    throw InputError("hypernetwork model: the input grids must be [B][" + std::to_string(kInputChannels) + "][" +
                     std::to_string(m) + "][" + std::to_string(m) + "]");
  KPDE_REQUIRE(static_cast<int>(cond.extent(0)) == B && cond.extent(1) == kCondInputs &&
                   static_cast<int>(targets.extent(0)) == B && targets.extent(1) == target_size(),
               Error, "hypernetwork model: cond [B][61] and targets [B][5409] expected");
  Cache local;
  Cache& c = cache ? *cache : local;
  c.B = B;
  c.grids = grids;
  c.cond = cond;
  // conditioning
  c.h1_pre = mat<T>("h1_pre", B, spec_.cond), c.h1 = mat<T>("h1", B, spec_.cond);
  c.h2_pre = mat<T>("h2_pre", B, spec_.cond), c.z = mat<T>("z", B, spec_.cond);
  L.cond1.forward(p + L.o_cond1, cond, c.h1_pre);
  nn::gelu_forward<T>(c.h1.size(), c.h1_pre.data(), c.h1.data());
  L.cond2.forward(p + L.o_cond2, c.h1, c.h2_pre);
  nn::gelu_forward<T>(c.z.size(), c.h2_pre.data(), c.z.data());
  // stem
  c.stem_pre = map4<T>("stem_pre", B, spec_.stem, L.stem_size, L.stem_size);
  c.stem_out = map4<T>("stem_out", B, spec_.stem, L.stem_size, L.stem_size);
  L.stem.forward(p + L.o_stem, grids, c.stem_pre);
  gelu(c.stem_pre, c.stem_out);
  // stages
  c.stages.resize(L.stages.size());
  Arr4<T> x = c.stem_out;
  for (std::size_t s = 0; s < L.stages.size(); ++s) {
    const auto& st = L.stages[s];
    auto& sc = c.stages[s];
    const int w = st.width, n = st.size;
    sc.down_pre = map4<T>("down_pre", B, w, n, n), sc.down_out = map4<T>("down_out", B, w, n, n);
    st.down.forward(p + st.o_down, x, sc.down_pre);
    gelu(sc.down_pre, sc.down_out);
    Arr4<T> h = sc.down_out;
    sc.blocks.resize(st.blocks.size());
    for (std::size_t k = 0; k < st.blocks.size(); ++k) {
      const auto& bl = st.blocks[k];
      auto& bc = sc.blocks[k];
      bc.in = h;
      bc.g1 = map4<T>("g1", B, w, n, n), bc.a1 = map4<T>("a1", B, w, n, n), bc.c1 = map4<T>("c1", B, w, n, n);
      bc.g2 = map4<T>("g2", B, w, n, n), bc.a2 = map4<T>("a2", B, w, n, n);
      Arr4<T> out = map4<T>("block_out", B, w, n, n);
      bl.gn1.forward(p + bl.o_gn1, nn::as_tokens(Arr4<T>(h)), nn::as_tokens(bc.g1));
      gelu(bc.g1, bc.a1);
      bl.c1.forward(p + bl.o_c1, bc.a1, bc.c1);
      bl.gn2.forward(p + bl.o_gn2, nn::as_tokens(bc.c1), nn::as_tokens(bc.g2));
      gelu(bc.g2, bc.a2);
      bl.c2.forward(p + bl.o_c2, bc.a2, out);
      add_into(out, h);
      h = out;
    }
    sc.pre_film = h;
    // FiLM: gamma = 1 + a, beta = b from [a, b] = F z
    Mat<T> gb = mat<T>("gb", B, 2 * w);
    st.film.forward(p + st.o_film, c.z, gb);
    sc.gamma = mat<T>("gamma", B, w), sc.beta = mat<T>("beta", B, w);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < w; ++j) sc.gamma(b, j) = T(1) + gb(b, j), sc.beta(b, j) = gb(b, w + j);
    sc.out = map4<T>("stage_out", B, w, n, n);
    nn::film_forward<T>(nn::as_tokens(h), sc.gamma, sc.beta, nn::as_tokens(sc.out));
    // pooling
    sc.pooled = Arr3<T>("pooled", static_cast<std::size_t>(B), target_tensors().size(), static_cast<std::size_t>(w));
    st.pool.forward(p + st.o_pool, nn::as_tokens(sc.out), sc.pooled);
    x = sc.out;
  }
  // heads
  const auto& tensors = target_tensors();
  c.heads.resize(tensors.size());
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto& h = L.heads[k];
    auto& hc = c.heads[k];
    // the head reads its query's row of every stage's pooling and the conditioning z
    hc.in = mat<T>("head_in", B, L.pooled + spec_.cond);
    for (int b = 0; b < B; ++b) {
      int col = 0;
      for (std::size_t s = 0; s < L.stages.size(); ++s)
        for (int j = 0; j < L.stages[s].width; ++j) hc.in(b, col++) = c.stages[s].pooled(b, k, j);
      for (int j = 0; j < spec_.cond; ++j) hc.in(b, col++) = c.z(b, j);
    }
    hc.pre = mat<T>("head_pre", B, h.hidden), hc.act = mat<T>("head_act", B, h.hidden), hc.gn = mat<T>("head_gn", B, h.hidden);
    h.l1.forward(p + h.o_l1, hc.in, hc.pre);
    nn::gelu_forward<T>(hc.pre.size(), hc.pre.data(), hc.act.data());
    h.gn.forward(p + h.o_gn, as3(hc.act), as3(hc.gn));
    Mat<T> out = mat<T>("head_out", B, static_cast<int>(tensors[k].size()));
    h.l2.forward(p + h.o_l2, hc.gn, out);
    for (int b = 0; b < B; ++b)
      for (std::size_t q = 0; q < tensors[k].size(); ++q) targets(b, tensors[k].offset + q) = out(b, q);
  }
}

template <class T>
void Model<T>::backward(const T* p, Cache& c, const Mat<const T>& d_targets, T* grad) const {
  const Layers& L = *layers_;
  const int B = c.B;
  const auto& tensors = target_tensors();
  // heads -> d pooled, d z
  Mat<T> dz = mat<T>("dz", B, spec_.cond);
  std::vector<Arr3<T>> dpool(L.stages.size());
  for (std::size_t s = 0; s < L.stages.size(); ++s)
    dpool[s] = Arr3<T>("dpool", static_cast<std::size_t>(B), tensors.size(), static_cast<std::size_t>(L.stages[s].width));
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto& h = L.heads[k];
    auto& hc = c.heads[k];
    Mat<T> dout = mat<T>("dout", B, static_cast<int>(tensors[k].size()));
    for (int b = 0; b < B; ++b)
      for (std::size_t q = 0; q < tensors[k].size(); ++q) dout(b, q) = d_targets(b, tensors[k].offset + q);
    Mat<T> dgn = mat<T>("dgn", B, h.hidden), dact = mat<T>("dact", B, h.hidden), din = mat<T>("din", B, L.pooled + spec_.cond);
    h.l2.backward(p + h.o_l2, hc.gn, dout, dgn, grad + h.o_l2);
    h.gn.backward(p + h.o_gn, as3(hc.act), as3(dgn), as3(dact), grad + h.o_gn);
    nn::gelu_backward<T>(dact.size(), hc.pre.data(), dact.data(), dact.data());
    h.l1.backward(p + h.o_l1, hc.in, dact, din, grad + h.o_l1);
    for (int b = 0; b < B; ++b) {
      int col = 0;
      for (std::size_t s = 0; s < L.stages.size(); ++s)
        for (int j = 0; j < L.stages[s].width; ++j) dpool[s](b, k, j) = din(b, col++);
      for (int j = 0; j < spec_.cond; ++j) dz(b, j) += din(b, col++);
    }
  }
  // stages in reverse
  Arr4<T> dnext;  // d(loss)/d(stage output) from the following stage's down convolution
  for (std::size_t s = L.stages.size(); s-- > 0;) {
    const auto& st = L.stages[s];
    auto& sc = c.stages[s];
    const int w = st.width, n = st.size;
    Arr4<T> dout = map4<T>("dstage", B, w, n, n);
    st.pool.backward(p + st.o_pool, nn::as_tokens(sc.out), dpool[s], nn::as_tokens(dout), grad + st.o_pool);
    if (dnext.size() > 0) add_into(dout, dnext);
    // FiLM
    Arr4<T> dh = map4<T>("dh", B, w, n, n);
    Mat<T> dgamma = mat<T>("dgamma", B, w), dbeta = mat<T>("dbeta", B, w), dgb = mat<T>("dgb", B, 2 * w);
    nn::film_backward<T>(nn::as_tokens(sc.pre_film), sc.gamma, nn::as_tokens(dout), nn::as_tokens(dh), dgamma, dbeta);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < w; ++j) dgb(b, j) = dgamma(b, j), dgb(b, w + j) = dbeta(b, j);
    Mat<T> dz_s = mat<T>("dz_s", B, spec_.cond);
    st.film.backward(p + st.o_film, c.z, dgb, dz_s, grad + st.o_film);
    for (std::size_t q = 0; q < dz.size(); ++q) dz.data()[q] += dz_s.data()[q];
    // residual blocks: out = in + c2(a2); dh is d(out)
    for (std::size_t k = st.blocks.size(); k-- > 0;) {
      const auto& bl = st.blocks[k];
      auto& bc = sc.blocks[k];
      Arr4<T> t1 = map4<T>("t1", B, w, n, n), t2 = map4<T>("t2", B, w, n, n);
      bl.c2.backward(p + bl.o_c2, bc.a2, dh, t1, grad + bl.o_c2);                 // t1 = d a2
      nn::gelu_backward<T>(t1.size(), bc.g2.data(), t1.data(), t1.data());        // t1 = d g2
      bl.gn2.backward(p + bl.o_gn2, nn::as_tokens(bc.c1), nn::as_tokens(t1), nn::as_tokens(t2), grad + bl.o_gn2);  // t2 = d c1
      bl.c1.backward(p + bl.o_c1, bc.a1, t2, t1, grad + bl.o_c1);                 // t1 = d a1
      nn::gelu_backward<T>(t1.size(), bc.g1.data(), t1.data(), t1.data());        // t1 = d g1
      bl.gn1.backward(p + bl.o_gn1, nn::as_tokens(bc.in), nn::as_tokens(t1), nn::as_tokens(t2), grad + bl.o_gn1);  // t2 = d in (branch)
      add_into(dh, t2);                                                            // + identity path
    }
    // down convolution: dh is d(down_out)
    nn::gelu_backward<T>(dh.size(), sc.down_pre.data(), dh.data(), dh.data());
    const Arr4<T> xin = s == 0 ? c.stem_out : c.stages[s - 1].out;
    Arr4<T> dx = map4<T>("dx", B, static_cast<int>(xin.extent(1)), static_cast<int>(xin.extent(2)), static_cast<int>(xin.extent(3)));
    st.down.backward(p + st.o_down, xin, dh, dx, grad + st.o_down);
    dnext = dx;
  }
  // stem (no input gradient)
  nn::gelu_backward<T>(dnext.size(), c.stem_pre.data(), dnext.data(), dnext.data());
  L.stem.backward(p + L.o_stem, c.grids, dnext, Arr4<T>(), grad + L.o_stem);
  // conditioning
  nn::gelu_backward<T>(dz.size(), c.h2_pre.data(), dz.data(), dz.data());
  Mat<T> dh1 = mat<T>("dh1", B, spec_.cond);
  L.cond2.backward(p + L.o_cond2, c.h1, dz, dh1, grad + L.o_cond2);
  nn::gelu_backward<T>(dh1.size(), c.h1_pre.data(), dh1.data(), dh1.data());
  L.cond1.backward(p + L.o_cond1, c.cond, dh1, Mat<T>(), grad + L.o_cond1);
}

template <class T>
double Model<T>::forward_flops() const {
  const Layers& L = *layers_;
  double f = L.stem.forward_flops(1, input_size(), input_size());
  int n = L.stem_size;
  for (const auto& st : L.stages) {
    f += st.down.forward_flops(1, n, n);
    n = st.size;
    for (const auto& bl : st.blocks) f += bl.c1.forward_flops(1, n, n) + bl.c2.forward_flops(1, n, n);
    f += st.pool.forward_flops(1, n * n);
  }
  for (const auto& h : L.heads) f += 2.0 * static_cast<double>(h.l1.n_params() + h.l2.n_params());
  return f;
}

template <class T>
void stack_inputs(const std::vector<const PreparedInput*>& inputs, const Arr4<T>& grids, const Mat<T>& cond) {
  const std::size_t B = inputs.size();
  KPDE_REQUIRE(grids.extent(0) == B && cond.extent(0) == B, Error, "stack_inputs: batch sizes differ");
  for (std::size_t b = 0; b < B; ++b) {
    const PreparedInput& in = *inputs[b];
    KPDE_REQUIRE(in.grids.size() == grids.extent(1) * grids.extent(2) * grids.extent(3), Error,
                 "stack_inputs: the prepared grids do not match the model's input size");
    T* g = &grids(b, 0, 0, 0);
    for (std::size_t k = 0; k < in.grids.size(); ++k) g[k] = static_cast<T>(in.grids[k]);
    for (int k = 0; k < kCondInputs; ++k) cond(b, k) = static_cast<T>(in.cond[static_cast<std::size_t>(k)]);
  }
}

template class Model<float>;
template class Model<double>;
template void stack_inputs<float>(const std::vector<const PreparedInput*>&, const Arr4<float>&, const Mat<float>&);
template void stack_inputs<double>(const std::vector<const PreparedInput*>&, const Arr4<double>&, const Mat<double>&);

}  // namespace kpde::hypernet
