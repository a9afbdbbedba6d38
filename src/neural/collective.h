// The ranks of one data-parallel training, joined through torch.distributed (c10d): a TCPStore
// on rank 0's address for the rendezvous, a Gloo process group for the sums and byte exchanges.
#pragma once
#include "torch_includes.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cancel.h"

namespace pgrec::neural {

class Collective {
 public:
  // Joins the training whose rendezvous is `host`:`port` (rank 0 serves it) as `rank` of `size`,
  // reachable by the other ranks at `address` (rank 0: `host`); `group` names this training's
  // keys in the store; every collective call fails after `timeout` when a rank does not answer
  // (it died or was cancelled). Waiting for the others, it checks `token` (Cancelled).
  Collective(const std::string& host, int port, const std::string& address, int rank, int size,
             const std::string& group, std::chrono::milliseconds timeout, CancelToken& token);
  ~Collective();

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Sums `t` over the ranks, in place (every rank gets the sum).
  void sum(torch::Tensor& t);
  // Every rank's `mine`, in rank order (each rank gives one byte string, any length).
  std::vector<std::string> all_bytes(const std::string& mine);
  // Rank 0 gets every rank's `mine` in rank order; the others get an empty list.
  std::vector<std::string> gather_bytes(const std::string& mine);
  // The bytes sent and received so far by this rank's sums and exchanges (payload only), and
  // the seconds spent in them (waiting for slower ranks included).
  std::uint64_t bytes_moved() const { return bytes_; }
  double seconds_moving() const { return seconds_; }

 private:
  struct Group;  // c10d's store and Gloo process group (collective.cc)
  int rank_, size_;
  std::unique_ptr<Group> group_;
  std::uint64_t bytes_ = 0;
  double seconds_ = 0;
};

}  // namespace pgrec::neural
