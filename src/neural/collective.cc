// The ranks of a data-parallel training: c10d's TCPStore and Gloo process group.
#include "collective.h"

#include <cstdio>
#include <cstring>
#include <thread>

#include "torch_api.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace pgrec::neural {

namespace {

// Adds the seconds between its creation and its end to a counter.
class Stopwatch {
 public:
  explicit Stopwatch(double* total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() { *total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  double* total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

struct Collective::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

Collective::Collective(const std::string& host, int port, const std::string& address, int rank, int size,
                       const std::string& group, std::chrono::milliseconds timeout, CancelToken& token)
    : rank_(rank), size_(size), group_(std::make_unique<Group>()) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  const auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()); };
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = rank == 0;
  o.numWorkers = static_cast<std::size_t>(size);
  o.waitWorkers = false;  // the ranks are counted below, in steps that see a cancel
  o.timeout = timeout;
  tcpstore_without_libuv(o, 0);
  c10::intrusive_ptr<c10d::TCPStore> tcp;
  while (tcp == nullptr) {
    token.check();
    if (left().count() <= 0)
      throw std::runtime_error("no rendezvous at " + host + ":" + std::to_string(port) + " within the timeout");
    if (rank != 0) o.timeout = std::min(left(), std::chrono::milliseconds(1000));  // short tries: a cancel is seen
    try {
      tcp = c10::make_intrusive<c10d::TCPStore>(host, o);
    } catch (const std::exception&) {
      if (rank == 0) throw;  // rank 0 serves the rendezvous: it could not listen
    }
  }
  tcp->setTimeout(timeout);
  group_->store = c10::make_intrusive<c10d::PrefixStore>(group + "/", tcp);
  group_->store->add("joined", 1);
  for (std::int64_t joined = 1; (joined = group_->store->add("joined", 0)) < size;) {
    token.check();
    if (left().count() <= 0)
      throw std::runtime_error(std::to_string(joined) + " of " + std::to_string(size) + " ranks joined within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(rank == 0 ? host : address));
  group_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, rank, size, options);
}

Collective::~Collective() = default;

void Collective::sum(torch::Tensor& t) {
  if (size_ == 1) return;
  Stopwatch watch(&seconds_);
  torch::Tensor cpu = t.device().is_cpu() ? t.contiguous() : t.to(torch::kCPU).contiguous();
  std::vector<torch::Tensor> one = {cpu};
  group_->gloo->allreduce(one)->wait();
  if (!t.device().is_cpu() || !cpu.is_same(t)) t.copy_(cpu);
  bytes_ += 2 * static_cast<std::uint64_t>(cpu.numel() * cpu.element_size());
}

std::vector<std::string> Collective::all_bytes(const std::string& mine) {
  Stopwatch watch(&seconds_);
  std::vector<std::string> out(static_cast<std::size_t>(size_));
  torch::Tensor sizes = torch::zeros({size_}, torch::kInt64);
  sizes[rank_] = static_cast<std::int64_t>(mine.size());
  if (size_ > 1) {
    std::vector<torch::Tensor> one = {sizes};
    group_->gloo->allreduce(one)->wait();
  }
  for (int r = 0; r < size_; ++r) {
    const std::int64_t n = sizes[r].item<std::int64_t>();
    torch::Tensor buf = torch::empty({n}, torch::kUInt8);
    if (r == rank_ && n > 0) std::memcpy(buf.data_ptr(), mine.data(), static_cast<std::size_t>(n));
    if (size_ > 1 && n > 0) {
      std::vector<torch::Tensor> one = {buf};
      c10d::BroadcastOptions b;
      b.rootRank = r;
      group_->gloo->broadcast(one, b)->wait();
      bytes_ += static_cast<std::uint64_t>(n);
    }
    out[static_cast<std::size_t>(r)].assign(static_cast<const char*>(buf.data_ptr()), static_cast<std::size_t>(n));
  }
  return out;
}

std::vector<std::string> Collective::gather_bytes(const std::string& mine) {
  Stopwatch watch(&seconds_);
  std::vector<std::string> out;
  if (rank_ != 0) {
    std::vector<torch::Tensor> size = {torch::full({1}, static_cast<std::int64_t>(mine.size()), torch::kInt64)};
    group_->gloo->send(size, 0, 0)->wait();
    torch::Tensor buf = torch::empty({static_cast<std::int64_t>(mine.size())}, torch::kUInt8);
    if (!mine.empty()) {
      std::memcpy(buf.data_ptr(), mine.data(), mine.size());
      std::vector<torch::Tensor> one = {buf};
      group_->gloo->send(one, 0, 1)->wait();
    }
    bytes_ += mine.size();
    return out;
  }
  out.push_back(mine);
  for (int r = 1; r < size_; ++r) {
    std::vector<torch::Tensor> size = {torch::zeros({1}, torch::kInt64)};
    group_->gloo->recv(size, r, 0)->wait();
    const std::int64_t n = size[0].item<std::int64_t>();
    torch::Tensor buf = torch::empty({n}, torch::kUInt8);
    if (n > 0) {
      std::vector<torch::Tensor> one = {buf};
      group_->gloo->recv(one, r, 1)->wait();
    }
    bytes_ += static_cast<std::uint64_t>(n);
    out.emplace_back(static_cast<const char*>(buf.data_ptr()), static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace pgrec::neural

pgrec::neural::Collective* pgrec_torch_join(const char* host, int port, const char* address, int rank, int size,
                                            const char* group, int timeout_ms, pgrec::CancelToken* token, char* error,
                                            std::size_t error_size) {
  try {
    return new pgrec::neural::Collective(host, port, address, rank, size, group, std::chrono::milliseconds(timeout_ms),
                                         *token);
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error joining the training");
  }
  return nullptr;
}

void pgrec_torch_leave(pgrec::neural::Collective* ranks) {
  try {
    delete ranks;
  } catch (...) {
  }
}

int pgrec_torch_allgather(pgrec::neural::Collective* ranks, const char* mine, std::size_t len, char* out, char* error,
                          std::size_t error_size) {
  try {
    const std::vector<std::string> all = ranks->all_bytes(std::string(mine, len));
    for (std::size_t r = 0; r < all.size(); ++r) {
      if (all[r].size() != len) throw std::runtime_error("a rank sent a handshake of another length");
      std::memcpy(out + r * len, all[r].data(), len);
    }
    return 1;
  } catch (const std::exception& e) {
    std::snprintf(error, error_size, "%s", e.what());
  } catch (...) {
    std::snprintf(error, error_size, "unknown error in the handshake");
  }
  return 0;
}
