// Module entry: libvirt process-wide setup, the JS classes, and the environment cleanup hook.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <napi.h>

#include "addon_data.h"
#include "connection.h"
#include "domain.h"
#include "errors.h"
#include "event_loop.h"
#include "handles.h"

namespace agentfleet {

namespace {

// libvirt prints every error to stderr unless a handler is set; errors are reported as
// rejections instead.
void IgnoreError(void*, virErrorPtr) {}

Napi::Value SetErrorFactoryJs(const Napi::CallbackInfo& info) {
  SetErrorFactory(info.Env(), info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// virGetVersion: the library this process linked, no connection needed.
Napi::Value GetLibraryVersion(const Napi::CallbackInfo& info) {
  unsigned long version = 0;
  virGetVersion(&version, nullptr, nullptr);
  return Napi::Number::New(info.Env(), double(version));
}

Napi::Value StopEventLoop(const Napi::CallbackInfo& info) {
  event_loop::Stop();
  return info.Env().Undefined();
}

Napi::Value EventLoopRunning(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), event_loop::Running());
}

Napi::Value LiveHandleCounts(const Napi::CallbackInfo& info) {
  Napi::Object counts = Napi::Object::New(info.Env());
  counts.Set("connections", Napi::Number::New(info.Env(), double(LiveHandles::connections.load())));
  counts.Set("domains", Napi::Number::New(info.Env(), double(LiveHandles::domains.load())));
  return counts;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // virInitialize must precede use of libvirt from several threads.
  if (virInitialize() < 0) throw Napi::Error::New(env, "virInitialize failed");
  virSetErrorFunc(nullptr, IgnoreError);
  event_loop::Register();

  auto* data = new AddonData();
  env.SetInstanceData(data);
  Napi::Function connection = Connection::Define(env);
  Napi::Function domain = Domain::Define(env);
  data->connectionCtor = Napi::Persistent(connection);
  data->domainCtor = Napi::Persistent(domain);

  // Runs before the instance data is deleted: free what the GC has not, then stop the thread.
  env.AddCleanupHook([env, data]() {
    CloseAllHandles(env);
    event_loop::Leave(data->usesEventLoop);
  });

  exports.Set("Connection", connection);
  exports.Set("Domain", domain);
  exports.Set("open", Napi::Function::New(env, Connection::Open, "open"));
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactoryJs, "setErrorFactory"));
  exports.Set("getLibraryVersion", Napi::Function::New(env, GetLibraryVersion, "getLibraryVersion"));
  exports.Set("stopEventLoop", Napi::Function::New(env, StopEventLoop, "stopEventLoop"));
  exports.Set("eventLoopRunning", Napi::Function::New(env, EventLoopRunning, "eventLoopRunning"));
  exports.Set("liveHandleCounts", Napi::Function::New(env, LiveHandleCounts, "liveHandleCounts"));
  return exports;
}

}  // namespace agentfleet

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return agentfleet::Init(env, exports); }

NODE_API_MODULE(agentfleet_libvirt, InitModule)
