#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "torch_module.h"

#include "abi.h"

#include "postgres_includes.h"

namespace pgrec::pg {

const TorchModule* torch_module(const char** why) {
  static TorchModule module;
  static bool tried = false;
  static bool loaded = false;
  static char reason[512] = "";
  if (!tried) {
    tried = true;
    char path[MAXPGPATH];
    snprintf(path, sizeof path, "%s/pgrec_torch.so", pkglib_path);
    // OpenMP threads that spin while idle steal the core other backends need; libgomp reads this
    // when the module loads it (a setting of the server's environment wins).
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = dlerror();
      snprintf(reason, sizeof reason, "%s", e != nullptr ? e : path);
    } else {
      // A module built against another version of the core would share objects of another layout.
      const auto abi = reinterpret_cast<std::uint64_t (*)()>(dlsym(handle, "pgrec_torch_abi"));
      if (abi == nullptr || abi() != pgrec::core_abi()) {
        snprintf(reason, sizeof reason,
                 "%s was built for another build of pgrec; rebuild and reinstall both (scripts/demo does)", path);
        if (why != nullptr) *why = reason;
        return nullptr;
      }
      module.cuda_devices = reinterpret_cast<int (*)()>(dlsym(handle, "pgrec_torch_cuda_devices"));
      module.als_trainer = reinterpret_cast<decltype(module.als_trainer)>(dlsym(handle, "pgrec_torch_als_trainer"));
      module.neural_trainer =
          reinterpret_cast<decltype(module.neural_trainer)>(dlsym(handle, "pgrec_torch_neural_trainer"));
      module.join = reinterpret_cast<decltype(module.join)>(dlsym(handle, "pgrec_torch_join"));
      module.leave = reinterpret_cast<decltype(module.leave)>(dlsym(handle, "pgrec_torch_leave"));
      module.allgather = reinterpret_cast<decltype(module.allgather)>(dlsym(handle, "pgrec_torch_allgather"));
      module.distributed_als_trainer =
          reinterpret_cast<decltype(module.distributed_als_trainer)>(dlsym(handle, "pgrec_torch_distributed_als_trainer"));
      module.distributed_core_trainer = reinterpret_cast<decltype(module.distributed_core_trainer)>(
          dlsym(handle, "pgrec_torch_distributed_core_trainer"));
      module.distributed_neural_trainer = reinterpret_cast<decltype(module.distributed_neural_trainer)>(
          dlsym(handle, "pgrec_torch_distributed_neural_trainer"));
      loaded = module.cuda_devices != nullptr && module.als_trainer != nullptr && module.neural_trainer != nullptr &&
               module.join != nullptr && module.leave != nullptr && module.allgather != nullptr &&
               module.distributed_als_trainer != nullptr && module.distributed_neural_trainer != nullptr &&
               module.distributed_core_trainer != nullptr;
      if (!loaded) snprintf(reason, sizeof reason, "%s lacks pgrec's entry points", path);
    }
  }
  if (why != nullptr) *why = reason;
  return loaded ? &module : nullptr;
}

}  // namespace pgrec::pg
