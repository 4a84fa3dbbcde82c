// Per-environment state: JS constructors, the error factory, and weak lists of live native
// handles so the environment's cleanup hook can free whatever the GC has not.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

namespace agentfleet {

struct ConnState;
struct DomainHandle;

struct AddonData {
  Napi::FunctionReference errorFactory;
  Napi::FunctionReference connectionCtor;
  Napi::FunctionReference domainCtor;
  std::vector<std::weak_ptr<ConnState>> connections;
  std::vector<std::weak_ptr<DomainHandle>> domains;
  bool usesEventLoop = false;  // see event_loop::Start

  static AddonData* Of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

  template <typename T>
  static void Track(std::vector<std::weak_ptr<T>>& list, const std::shared_ptr<T>& item) {
    // Prune expired entries whenever the list doubles, so tracking stays O(1) amortized.
    if (list.size() >= 64 && (list.size() & (list.size() - 1)) == 0) {
      std::vector<std::weak_ptr<T>> live;
      for (auto& w : list)
        if (!w.expired()) live.push_back(w);
      list.swap(live);
    }
    list.push_back(item);
  }
};

}  // namespace agentfleet
