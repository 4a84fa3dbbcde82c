#include "lifecycle_events.h"

namespace agentfleet {

EventSink::EventSink(Napi::Env env, Napi::Function callback)
    : tsfn_(Napi::ThreadSafeFunction::New(env, callback, "agentfleet:lifecycle", 0, 1)) {}

void EventSink::Deliver(LifecycleEvent* ev) {
  std::lock_guard<std::mutex> guard(lock_);
  if (!open_) {
    delete ev;
    return;
  }
  napi_status status = tsfn_.NonBlockingCall(ev, [](Napi::Env env, Napi::Function fn, LifecycleEvent* e) {
    // env is null when the function is torn down with events still queued.
    if (env != nullptr && fn != nullptr) {
      Napi::Object obj = Napi::Object::New(env);
      obj.Set("name", e->name);
      obj.Set("uuid", e->uuid);
      obj.Set("event", e->event);
      obj.Set("detail", e->detail);
      fn.Call({obj});
    }
    delete e;
  });
  if (status != napi_ok) delete ev;
}

void EventSink::Shutdown() {
  std::lock_guard<std::mutex> guard(lock_);
  if (!open_) return;
  open_ = false;
  tsfn_.Release();
}

void EventSink::Abandon() {
  std::lock_guard<std::mutex> guard(lock_);
  open_ = false;
}

int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  auto* ev = new LifecycleEvent{};
  // Both read fields cached in the virDomainPtr: no daemon round trip on the loop thread.
  const char* name = virDomainGetName(dom);
  ev->name = name ? name : "";
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  if (virDomainGetUUIDString(dom, uuid) == 0) ev->uuid = uuid;
  ev->event = event;
  ev->detail = detail;
  (*static_cast<std::shared_ptr<EventSink>*>(opaque))->Deliver(ev);
  return 0;
}

void FreeSinkHolder(void* opaque) { delete static_cast<std::shared_ptr<EventSink>*>(opaque); }

}  // namespace agentfleet
