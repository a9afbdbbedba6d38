// Training memory estimates: they grow with what a family allocates, are refused above a limit
// with an OutOfMemory error naming the estimate, and integer parameters are read exactly.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "algorithms.h"
#include "errors.h"
#include "memory_estimate.h"
#include "params.h"

using namespace pgrec;

namespace {

// A parsed configuration of `algorithm` with numeric parameters given as written ("key", "text").
AlgorithmConfig config(const std::string& algorithm,
                       std::vector<std::pair<std::string, std::string>> numbers = {}) {
  std::vector<Param> params;
  for (const auto& [key, text] : numbers) {
    Param p;
    p.key = key;
    p.type = ParamType::Number;
    p.number = std::stod(text);
    p.text = text;
    params.push_back(p);
  }
  if (algorithm == "sasrec") {
    Param t;
    t.key = "time_col";
    t.type = ParamType::String;
    t.text = "ts";
    params.push_back(t);
  }
  return parse_algorithm(algorithm, params, algorithm == "sgd_mf" || algorithm == "svdpp");
}

}  // namespace

TEST(MemoryEstimate, FactorModelsGrowWithFactorsAndCatalog) {
  const TrainingShape small{1000, 1000, 50000, 1};
  const TrainingShape large{600000, 600000, 50000, 1};
  const std::uint64_t f64 = estimate_training_bytes(config("als", {{"factors", "64"}}), small);
  const std::uint64_t f256 = estimate_training_bytes(config("als", {{"factors", "256"}}), small);
  EXPECT_GT(f256, f64);
  // 1.2M rows x 1024 floats is 4.9 GB for the factors alone.
  EXPECT_GT(estimate_training_bytes(config("als", {{"factors", "1024"}}), large), 4.9e9);
  for (const char* a : {"bpr", "sgd_mf", "svdpp", "item_knn", "user_knn", "popularity"})
    EXPECT_GT(estimate_training_bytes(config(a), small), 50000u * 8) << a;
}

TEST(MemoryEstimate, SequentialModelsCountTheBatchActivations) {
  // 600 users with 1000 interactions each: max_len 1000 and batch 600 hold every sequence at once.
  TrainingShape shape{600, 50000, 600000, 1};
  shape.longest_user = 1000;
  const std::uint64_t big = estimate_training_bytes(config("sasrec", {{"max_len", "1000"}, {"batch_size", "600"}}), shape);
  EXPECT_GT(big, 3e9);
  // The same settings on users with five rows each need far less.
  shape.longest_user = 5;
  EXPECT_LT(estimate_training_bytes(config("sasrec"), shape), big / 10);
}

TEST(MemoryEstimate, OverTheLimitIsAnOutOfMemoryErrorWithTheEstimate) {
  const TrainingShape shape{100000, 100000, 1000000, 1};
  try {
    require_training_memory(config("als", {{"factors", "512"}}), shape, 1 << 20);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
    EXPECT_NE(std::string(e.what()).find("would need about"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 MB"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(require_training_memory(config("als", {{"factors", "512"}}), shape, 0));  // 0: no limit
}

TEST(Params, IntegersAreReadExactly) {
  // 2^63 - 1 as written, not rounded through a double to 2^63.
  EXPECT_EQ(config("bpr", {{"seed", "9223372036854775807"}}).bpr.seed, 9223372036854775807ull);
  EXPECT_THROW(config("bpr", {{"seed", "9223372036854775808"}}), Error);
  EXPECT_EQ(config("bpr", {{"seed", "9007199254740993"}}).bpr.seed, 9007199254740993ull);
}
