// JS class wrapping one virConnectPtr. Every method that may reach the daemon returns a
// Promise and runs on the libvirt pool (see job.h).
//
// Concurrency: calls on one connection are NOT serialized by the binding. libvirt documents
// virConnectPtr as thread-safe (the remote driver multiplexes concurrent RPCs on one socket),
// so up to UV_THREADPOOL_SIZE calls run at once; each holds its own reference (handles.h).
#pragma once
#include <napi.h>

#include <memory>

#include "handles.h"

namespace agentfleet {

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ConnState> state);
  // open(uri, flags): virConnectOpenAuth without auth callbacks (ssh keys/agent only).
  static Napi::Value Open(const Napi::CallbackInfo& info);

  explicit Connection(const Napi::CallbackInfo& info);

 private:
  template <typename T, typename Work, typename Done>
  Napi::Value Run(const Napi::CallbackInfo& info, const char* func, Work work, Done done);
  template <typename Work>
  Napi::Value LookupDomain(const Napi::CallbackInfo& info, const char* func, Work work);

  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);
  Napi::Value IsAlive(const Napi::CallbackInfo& info);
  Napi::Value CloseReason(const Napi::CallbackInfo& info);
  Napi::Value GetURI(const Napi::CallbackInfo& info);
  Napi::Value GetLibVersion(const Napi::CallbackInfo& info);
  Napi::Value GetVersion(const Napi::CallbackInfo& info);
  Napi::Value GetHostname(const Napi::CallbackInfo& info);
  Napi::Value GetCapabilities(const Napi::CallbackInfo& info);
  Napi::Value GetDomainCapabilities(const Napi::CallbackInfo& info);
  Napi::Value GetNodeInfo(const Napi::CallbackInfo& info);
  Napi::Value ListAllDomains(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByName(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByUUIDString(const Napi::CallbackInfo& info);
  Napi::Value DefineDomain(const Napi::CallbackInfo& info);
  Napi::Value CreateDomain(const Napi::CallbackInfo& info);
  Napi::Value RegisterLifecycleEvents(const Napi::CallbackInfo& info);
  Napi::Value DeregisterEvent(const Napi::CallbackInfo& info);
  // domain_stats.cc
  Napi::Value GetAllDomainStats(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
};

// Closes every connection and frees every domain handle still open in this environment.
void CloseAllHandles(Napi::Env env);

}  // namespace agentfleet
