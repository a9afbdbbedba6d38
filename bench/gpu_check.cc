// The GPU check (scripts/gpu-check): trains every LibTorch family on a device and on LibTorch's
// CPU with the same seed, checks that they agree, and prints one table of speeds. No PostgreSQL.
// Usage: gpu_check --device cuda|cpu [--ml100k PATH/u.data] [--synthetic USERS,ITEMS,ROWS]
//                  [--epochs N] [--iterations N] [--families als,neumf,two_tower,gru4rec,sasrec]
//                  [--threads N] [--compare-cpu yes|no|always]
// (--compare-cpu always: also when the device is the CPU, which checks that a seeded run repeats)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "torch_api.h"

using namespace pgrec;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One data set: rows in time order per user, kept so that each run builds its own input.
struct DataSet {
  std::string name;
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> rows;  // user, time, item

  // The interactions (and sequences in time order) the trainers take.
  NeuralInput input() const {
    InteractionBuilder b(IdKind::Int, IdKind::Int, false);
    for (const auto& [u, t, i] : rows) b.add(IdRef::of(u), IdRef::of(i), 1.0f);
    NeuralInput in;
    in.sequences = b.sequences();
    in.data = b.build();
    return in;
  }
};

// MovieLens 100K's u.data (user, item, rating, time; tab-separated), sorted by user and time.
DataSet read_ml100k(const std::string& path) {
  DataSet d;
  d.name = "ML-100K";
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::int64_t u, i, r, t;
  while (f >> u >> i >> r >> t) d.rows.emplace_back(u, t, i);
  std::sort(d.rows.begin(), d.rows.end());
  return d;
}

// A power-law data set of the given shape (ML-20M: 138,493 users, 26,744 items, 20M rows): user
// activity and item popularity both Zipf-like, each user's rows in generation order.
DataSet synthetic(std::int64_t users, std::int64_t items, std::int64_t rows) {
  DataSet d;
  d.name = "synthetic " + std::to_string(users) + "x" + std::to_string(items) + "x" + std::to_string(rows);
  std::mt19937_64 rng(7);
  std::vector<double> cu(static_cast<std::size_t>(users)), ci(static_cast<std::size_t>(items));
  double s = 0;
  for (std::int64_t u = 0; u < users; ++u) cu[static_cast<std::size_t>(u)] = (s += 1.0 / std::pow(u + 10.0, 0.7));
  s = 0;
  for (std::int64_t i = 0; i < items; ++i) ci[static_cast<std::size_t>(i)] = (s += 1.0 / std::pow(i + 5.0, 0.9));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  d.rows.reserve(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto u = std::lower_bound(cu.begin(), cu.end(), unit(rng) * cu.back()) - cu.begin();
    const auto i = std::lower_bound(ci.begin(), ci.end(), unit(rng) * ci.back()) - ci.begin();
    d.rows.emplace_back(u, r, i);
  }
  std::sort(d.rows.begin(), d.rows.end());
  return d;
}

Param number(const std::string& key, double v) {
  Param p;
  p.key = key;
  p.type = ParamType::Number;
  p.number = v;
  p.text = std::to_string(v);
  return p;
}

Param text(const std::string& key, const std::string& v) {
  Param p;
  p.key = key;
  p.type = ParamType::String;
  p.text = v;
  return p;
}

// What one training run measured.
struct Run {
  bool ok = false;
  std::string error;
  double seconds_per_step = 0;  // per ALS iteration or per epoch
  double first_step = 0;        // the first step alone (warm-up, kernels compiled)
  double finish_seconds = 0;    // moving the trained weights back into a served model
  double check = std::nan("");  // ALS: the objective; neural: the last epoch's validation NDCG@10
  std::int32_t steps = 0;
};

// The validation NDCG@10 of the last epoch in a trainer's history ("ndcg@10": x).
double last_ndcg(const std::string& history) {
  const auto at = history.rfind("\"ndcg@10\": ");
  return at == std::string::npos ? std::nan("") : std::atof(history.c_str() + at + 11);
}

// Steps a trainer `steps` times (or until it stops), timing each; then finishes it.
Run drive(Trainer* t, std::int32_t steps, bool als) {
  Run run;
  CancelToken token;
  double total = 0;
  for (std::int32_t s = 0; s < steps && t->done() < t->total() && !t->converged(); ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    t->step(token);
    const double took = seconds_since(t0);
    if (s == 0) run.first_step = took;
    total += took;
    ++run.steps;
  }
  // The mean over the steps after the first (the first compiles kernels), when there are any.
  run.seconds_per_step = run.steps > 1 ? (total - run.first_step) / (run.steps - 1) : total;
  run.check = als ? t->loss(token) : last_ndcg(t->history_json());
  const auto t0 = std::chrono::steady_clock::now();
  Model m = t->finish("bigint", "bigint");
  run.finish_seconds = seconds_since(t0);
  run.ok = m.n_items() > 0;
  return run;
}

Run run_als(const DataSet& d, const std::string& device, int factors, int iterations, int threads) {
  NeuralInput in = d.input();
  AlsParams p = AlsParams::parse({number("factors", factors), number("iterations", iterations)}, false);
  fit_als_to_data(&p, in.data);
  char error[512] = "";
  std::unique_ptr<Trainer> t(pgrec_torch_als_trainer(&in.data, &p, device.c_str(), threads, error, sizeof error));
  if (!t) return Run{false, error};
  return drive(t.get(), iterations, true);
}

Run run_neural(const DataSet& d, const std::string& family, const std::string& device, int epochs, int threads) {
  std::vector<Param> params = {number("epochs", epochs), number("patience", 0), number("seed", 42)};
  if (family == "gru4rec" || family == "sasrec") params.push_back(text("time_col", "ts"));
  NeuralInput in = d.input();
  NeuralParams p = NeuralParams::parse(family, params);
  char error[512] = "";
  std::unique_ptr<Trainer> t(pgrec_torch_neural_trainer(&in, &p, device.c_str(), threads, error, sizeof error));
  if (!t) return Run{false, error};
  return drive(t.get(), epochs, false);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) out.push_back(part);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu", ml100k, shape, families = "als,neumf,two_tower,gru4rec,sasrec";
  int epochs = 3, iterations = 5, threads = 0;
  std::string compare_cpu = "yes";
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string k = argv[a], v = argv[a + 1];
    if (k == "--device") device = v;
    else if (k == "--ml100k") ml100k = v;
    else if (k == "--synthetic") shape = v;
    else if (k == "--epochs") epochs = std::atoi(v.c_str());
    else if (k == "--iterations") iterations = std::atoi(v.c_str());
    else if (k == "--families") families = v;
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--compare-cpu") compare_cpu = v;
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  if (pgrec_torch_abi() != core_abi()) { std::fprintf(stderr, "LibTorch module and core differ\n"); return 2; }
  std::vector<DataSet> sets;
  if (!ml100k.empty()) sets.push_back(read_ml100k(ml100k));
  if (!shape.empty()) {
    const auto v = split(shape);
    if (v.size() != 3) { std::fprintf(stderr, "--synthetic USERS,ITEMS,ROWS\n"); return 2; }
    sets.push_back(synthetic(std::atoll(v[0].c_str()), std::atoll(v[1].c_str()), std::atoll(v[2].c_str())));
  }
  if (sets.empty()) { std::fprintf(stderr, "give --ml100k or --synthetic\n"); return 2; }
  std::printf("GPU check: device %s, %d CUDA device(s) visible, seed 42\n\n", device.c_str(), pgrec_torch_cuda_devices());
  std::printf("| family | data | factors | steps | %s s/step | reference cpu s/step | speed-up | first step s | finish s | "
              "check on %s | check on the reference | agree |\n", device.c_str(), device.c_str());
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  int failures = 0;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    const DataSet& d = sets[s];
    // The CPU reference runs on the first (small) data set only: on an ML-20M shape it takes hours.
    const bool with_cpu = s == 0 && (compare_cpu == "always" || (compare_cpu == "yes" && device != "cpu"));
    for (const std::string& family : split(families)) {
      for (int factors : family == "als" ? std::vector<int>{64, 128} : std::vector<int>{64}) {
        const auto one = [&](const std::string& dev) {
          return family == "als" ? run_als(d, dev, factors, iterations, threads) : run_neural(d, family, dev, epochs, threads);
        };
        const Run on = one(device);
        const Run cpu = with_cpu ? one("cpu") : Run{};
        bool agree = on.ok && std::isfinite(on.check);
        std::string verdict = agree ? "yes" : "no";
        if (with_cpu && cpu.ok) {
          // ALS: the objective within 1e-3 relative; neural: validation NDCG@10 within 0.01.
          const double diff = std::fabs(on.check - cpu.check);
          agree = agree && (family == "als" ? diff <= 1e-3 * std::fabs(cpu.check) : diff <= 0.01);
          verdict = agree ? "yes" : "NO";
        } else if (with_cpu) {
          agree = false;
          verdict = "cpu failed: " + cpu.error;
        }
        if (!on.ok) verdict = "failed: " + on.error;
        failures += agree ? 0 : 1;
        std::printf("| %s | %s | %d | %d | %.4f | %s | %s | %.3f | %.3f | %.5f | %s | %s |\n", family.c_str(), d.name.c_str(),
                    family == "als" ? factors : 64, on.steps, on.seconds_per_step,
                    with_cpu ? std::to_string(cpu.seconds_per_step).c_str() : "-",
                    with_cpu && on.seconds_per_step > 0 ? std::to_string(cpu.seconds_per_step / on.seconds_per_step).c_str() : "-",
                    on.first_step, on.finish_seconds, on.check,
                    with_cpu ? std::to_string(cpu.check).c_str() : "-", verdict.c_str());
        std::fflush(stdout);
      }
    }
  }
  std::printf("\n%s\n", failures == 0 ? "all checks passed" : "some checks FAILED");
  return failures == 0 ? 0 : 1;
}
