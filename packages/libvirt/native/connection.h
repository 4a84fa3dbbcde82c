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
#include "job.h"

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
  // storage.cc
  Napi::Value StoragePoolInfo(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolDefine(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolBuild(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolCreate(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolRefresh(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolSetAutostart(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolDestroy(const Napi::CallbackInfo& info);
  Napi::Value StoragePoolUndefine(const Napi::CallbackInfo& info);
  Napi::Value StorageVolList(const Napi::CallbackInfo& info);
  Napi::Value StorageVolInfo(const Napi::CallbackInfo& info);
  Napi::Value StorageVolCreate(const Napi::CallbackInfo& info);
  Napi::Value StorageVolDelete(const Napi::CallbackInfo& info);
  Napi::Value StorageVolUpload(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
};

// In the header: storage.cc and connection.cc both queue calls through it.
template <typename T, typename Work, typename Done>
Napi::Value Connection::Run(const Napi::CallbackInfo& info, const char* func, Work work, Done done) {
  Napi::Env env = info.Env();
  if (state_->closed) return Rejected(env, LvError::Binding(VIR_ERR_INVALID_CONN, func, "connection is closed"));
  auto ref = std::make_shared<ConnRef>(state_->conn);
  return Job<T>::Run(
      env, [ref, work](T& out, LvError& err) { return work(ref->conn, out, err); }, done);
}

// Closes every connection and frees every domain handle still open in this environment.
void CloseAllHandles(Napi::Env env);

}  // namespace agentfleet
