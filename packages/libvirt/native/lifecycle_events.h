// Domain lifecycle events: libvirt calls OnLifecycle on the event-loop thread; a
// ThreadSafeFunction carries each event to the JS callback on the main thread.
#pragma once
#include <libvirt/libvirt.h>
#include <napi.h>

#include <memory>
#include <mutex>
#include <string>

namespace agentfleet {

struct LifecycleEvent {
  std::string name;
  std::string uuid;
  int event;
  int detail;
};

class EventSink {
 public:
  EventSink(Napi::Env env, Napi::Function callback);
  // Any thread. Drops the event once Shutdown ran.
  void Deliver(LifecycleEvent* ev);
  // Main thread; idempotent. After it returns no call reaches the ThreadSafeFunction, which
  // is released here, while the environment is certainly alive.
  void Shutdown();
  // Environment teardown: Node closes every ThreadSafeFunction itself (possibly before our
  // cleanup hook runs), so only stop using it.
  void Abandon();

 private:
  std::mutex lock_;
  bool open_ = true;
  Napi::ThreadSafeFunction tsfn_;
};

// libvirt's opaque for a registration: a heap shared_ptr so libvirt's free callback and the
// connection's subscription table each own the sink.
int OnLifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void* opaque);
void FreeSinkHolder(void* opaque);

}  // namespace agentfleet
