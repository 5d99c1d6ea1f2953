#include "train/least_squares_stage.hpp"

#include "core/strings.hpp"
#include "train/trainer.hpp"

namespace kpde::train {

template <class T>
std::shared_ptr<const StageConfig> LeastSquaresStage<T>::parse(const config::Node& st,
                                                                const StageParseContext& context) {
  if (!context.projectable)
    st.at("type").fail("the least_squares stage needs a linear operator (the residual must be linear in the output "
                       "layer); " + context.not_projectable);
  auto c = std::make_shared<Config>();
  c->kind = "least_squares";
  c->steps = 1;
  c->ridge = st.get_double("ridge", 1e-12);
  if (!(c->ridge >= 0)) st.at("ridge").fail("must be >= 0");
  return c;
}

template <class T>
StageEnd LeastSquaresStage<T>::run(Trainer<T>& trainer, long) {
  const Vec<T>& params = trainer.params();
  trainer.objective().project(params, trainer.weights(), config_.ridge);
  Vec<T> grad("kpde::train::least_squares_grad", params.extent(0));
  std::vector<double> terms;
  const double loss = trainer.evaluate(Vec<const T>(params), grad, terms);
  if (!std::isfinite(loss)) trainer.diverged("least squares gave a non-finite loss");
  StageEnd end;
  end.verdict = trainer.step_done(1, loss, terms, 0, [&] { return Vec<const T>(params); });
  end.message = "least_squares: loss " + format_e(loss);
  return end;
}

template class LeastSquaresStage<float>;
template class LeastSquaresStage<double>;

}  // namespace kpde::train
