#include "neural_params.h"
#include "json_out.h"

#include <cstdio>
#include <sstream>

#include "algorithms.h"
#include "errors.h"

namespace pgrec {

bool is_neural_algorithm(const std::string& name) {
  // The registry knows: an algorithm without a CPU trainer is one of the LibTorch families.
  const AlgorithmSpec* spec = find_algorithm(name);
  return spec != nullptr && spec->make == nullptr;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

NeuralParams NeuralParams::parse(const std::string& algorithm, const std::vector<Param>& params) {
  ParamReader r(params, algorithm);
  NeuralParams p;
  p.algorithm = algorithm;
  const bool seq = p.sequential();
  const std::int64_t width = algorithm == "neumf" ? 32 : algorithm == "autorec" ? 500 : algorithm == "multvae" ? 200 : 64;
  p.factors = static_cast<std::int32_t>(r.integer("factors", width, 1, 4096));
  // AutoRec's full-batch steps and Mult-VAE's sampled codes make their validation noisy: they wait longer.
  p.patience = static_cast<std::int32_t>(r.integer("patience", algorithm == "autorec" ? 20 : algorithm == "multvae" ? 10 : 5, 0, 10000));
  p.validation = r.boolean("validation", true);
  // With early stopping the validation score decides when to stop (the cap is only a cap: SASRec's
  // validation NDCG still rose at epoch 40 on ml-latest-small); without it, a fixed count.
  const bool early_stopping = p.validation && p.patience > 0;
  p.epochs = static_cast<std::int32_t>(r.integer("epochs", early_stopping ? kEarlyStoppingEpochs : seq ? 40 : 20, 1, 10000));
  const std::int64_t batch = seq ? 64 : algorithm == "lightgcn" || algorithm == "autorec" ? 2048 : 256;
  p.batch_size = static_cast<std::int32_t>(r.integer("batch_size", batch, 1, 65536));
  const double rate = algorithm == "lightgcn" || algorithm == "multvae" ? (algorithm == "multvae" ? 3e-3 : 5e-3)
                      : algorithm == "autorec"                          ? 1e-2
                                                                        : 1e-3;
  p.learning_rate = r.real("learning_rate", rate, 1e-9, 10.0);
  p.weight_decay = r.real("weight_decay", 0.0, 0.0, 10.0);
  p.dropout = r.real("dropout", seq ? 0.2 : algorithm == "multvae" ? 0.5 : algorithm == "autorec" ? 0.1 : 0.0, 0.0, 0.9);
  p.seed = static_cast<std::uint64_t>(r.integer("seed", 42, 0, INT64_MAX));
  p.gradient_exchange = r.choice("gradient_exchange", "auto", {"auto", "dense", "sparse"});
  if (seq) {
    p.time_col = r.text("time_col");
    if (p.time_col.empty())
      invalid_parameter(algorithm + " learns from the order of each user's rows: give time_col, the column that orders them");
    p.max_len = static_cast<std::int32_t>(r.integer("max_len", 50, 1, 1000));
    p.loss = r.choice("loss", "auto", {"auto", "full", "sampled"});
    p.sampled = static_cast<std::int32_t>(r.integer("sampled", 512, 1, 1000000));
    if (algorithm == "sasrec") {
      p.blocks = static_cast<std::int32_t>(r.integer("blocks", 2, 1, 16));
      p.heads = static_cast<std::int32_t>(r.integer("heads", 1, 1, 64));
      if (p.factors % p.heads != 0)
        invalid_parameter("parameter \"heads\" (" + std::to_string(p.heads) + ") must divide factors (" +
                          std::to_string(p.factors) + ")");
    }
  } else if (algorithm == "neumf") {
    p.mlp_factors = static_cast<std::int32_t>(r.integer("mlp_factors", 32, 1, 1024));
    p.mlp_layers = static_cast<std::int32_t>(r.integer("mlp_layers", 3, 1, 8));
    p.negatives = static_cast<std::int32_t>(r.integer("negatives", 4, 1, 100));
    p.init_from = r.text("init_from");
  } else if (algorithm == "two_tower") {
    p.item_features = r.text("item_features");
    p.user_features = r.text("user_features");
    p.id_dropout = r.real("id_dropout", 0.5, 0.0, 1.0);
  } else if (algorithm == "autorec") {
    p.regularization = r.real("regularization", 100.0, 0.0, 1e6);
  } else if (algorithm == "multvae") {
    p.hidden = static_cast<std::int32_t>(r.integer("hidden", 600, 1, 65536));
    p.beta_cap = r.real("beta_cap", 0.2, 0.0, 10.0);
    p.anneal_epochs = static_cast<std::int32_t>(r.integer("anneal_epochs", 10, 1, 100000));
  } else if (algorithm == "lightgcn") {
    p.layers = static_cast<std::int32_t>(r.integer("layers", 3, 0, 8));
    p.regularization = r.real("regularization", 1e-4, 0.0, 10.0);
  } else {
    invalid_parameter("unknown neural algorithm \"" + algorithm + "\"");
  }
  r.reject_unknown();
  return p;
}

bool NeuralParams::sampled_loss(std::int64_t n_items) const {
  if (loss != "auto") return loss == "sampled";
  return static_cast<double>(batch_size) * max_len * static_cast<double>(n_items) > static_cast<double>(1 << 27);
}

std::string NeuralParams::to_json() const {
  JsonOut out;
  out << "{\"factors\": " << factors << ", \"epochs\": " << epochs << ", \"batch_size\": " << batch_size
      << ", \"learning_rate\": " << learning_rate << ", \"weight_decay\": " << weight_decay
      << ", \"dropout\": " << dropout << ", \"patience\": " << patience
      << ", \"validation\": " << (validation ? "true" : "false") << ", \"seed\": " << seed;
  if (gradient_exchange != "auto") out << ", \"gradient_exchange\": \"" << gradient_exchange << "\"";
  if (sequential()) {
    out << ", \"time_col\": " << json_string(time_col) << ", \"max_len\": " << max_len << ", \"loss\": \"" << loss
        << "\", \"sampled\": " << sampled;
    if (algorithm == "sasrec") out << ", \"blocks\": " << blocks << ", \"heads\": " << heads;
  } else if (algorithm == "neumf") {
    out << ", \"mlp_factors\": " << mlp_factors << ", \"mlp_layers\": " << mlp_layers
        << ", \"negatives\": " << negatives;
    if (!init_from.empty()) out << ", \"init_from\": " << json_string(init_from);
  } else if (algorithm == "autorec") {
    out << ", \"regularization\": " << regularization;
  } else if (algorithm == "multvae") {
    out << ", \"hidden\": " << hidden << ", \"beta_cap\": " << beta_cap << ", \"anneal_epochs\": " << anneal_epochs;
  } else if (algorithm == "lightgcn") {
    out << ", \"layers\": " << layers << ", \"regularization\": " << regularization;
  } else {
    if (!item_features.empty()) out << ", \"item_features\": " << json_string(item_features);
    if (!user_features.empty()) out << ", \"user_features\": " << json_string(user_features);
    out << ", \"id_dropout\": " << id_dropout;
  }
  out << "}";
  return out.str();
}

}  // namespace pgrec
